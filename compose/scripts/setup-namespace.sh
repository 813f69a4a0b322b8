#!/bin/sh
# Creates the namespace and registers kubeadm-ha's search attributes, both idempotently
# (after temporalio/samples-server compose/scripts/create-namespace.sh).
set -eu
NAMESPACE=${DEFAULT_NAMESPACE:-default}
ADDR=${TEMPORAL_ADDRESS:-temporal:7233}

attempt=0
until temporal operator cluster health --address "$ADDR"; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 30 ] || { echo "Temporal at $ADDR not healthy"; exit 1; }
  sleep 2
done

temporal operator namespace describe -n "$NAMESPACE" --address "$ADDR" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$NAMESPACE" --address "$ADDR"

for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%:*}
  type=${pair#*:}
  if temporal operator search-attribute list -n "$NAMESPACE" --address "$ADDR" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create -n "$NAMESPACE" --address "$ADDR" --name "$name" --type "$type"
  fi
done
echo "namespace $NAMESPACE and search attributes ready"
