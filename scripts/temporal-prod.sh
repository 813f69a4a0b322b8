#!/usr/bin/env bash
# A production-like Temporal for tests: temporal-server (built by scripts/build-temporal-server.sh at
# the version temporal-compose.yml pins) on Debian's PostgreSQL, mTLS on the frontend, the `default`
# namespace and kubeadm-ha's search attributes set up as temporal-compose.yml's jobs do
# (compose/scripts/setup-postgres.sh, compose/scripts/setup-namespace.sh), and the Temporal Web UI
# (ui-server) pointed at it over mTLS. Everything listens on 127.0.0.1 only.
#
#   scripts/temporal-prod.sh start DIR [PORT]   # DIR: a folder of the caller's (created if missing);
#                                               # PORT: the frontend's gRPC port (default: a free one)
#   scripts/temporal-prod.sh stop DIR           # stops all it started; idempotent
#
# API-key mode: with TEMPORAL_PROD_JWKS_URL (a JWKS over http) and TEMPORAL_PROD_ADMIN_API_KEY_FILE
# (a JWT with "permissions": ["temporal-system:admin"] the rig sets itself up with), the frontend
# also wants an API key (Temporal's default JWT claim mapper and authorizer); the server's own worker
# then goes through an internal frontend, and no Web UI is started.
#
# `start` writes DIR/env, shell `export` lines for clients (the names the temporal CLI and
# @temporalio/envconfig read):
#   TEMPORAL_ADDRESS=127.0.0.1:<port>  TEMPORAL_NAMESPACE=default
#   TEMPORAL_TLS_CLIENT_CERT_PATH  TEMPORAL_TLS_CLIENT_KEY_PATH  TEMPORAL_TLS_SERVER_CA_CERT_PATH
#   TEMPORAL_TLS_SERVER_NAME=localhost  TEMPORAL_UI_URL=http://127.0.0.1:<uiport>
# and, for tests, TEMPORAL_PROD_PG_PORT / TEMPORAL_PROD_PG_USER / TEMPORAL_PROD_PG_PASSWORD (the
# PostgreSQL server, user `temporal` password `temporal`, databases temporal and temporal_visibility).
# DIR/pids lists "<name> <pid>" of temporal-server, ui-server and postgres; logs go to
# DIR/temporal-server.log, DIR/ui-server.log and (copied at stop) DIR/postgres.log.
#
# DIR/tls (keys 0600, EC P-256, made with openssl):
#   ca.pem ca.key                          the CA the server trusts for client certificates, and
#                                          that signed the server certificate
#   server.pem server.key                  the frontend's certificate: SAN DNS:localhost, IP:127.0.0.1
#                                          (NOT temporal.example: a client with server name
#                                          temporal.example must fail host verification)
#   client.pem client.key                  a client certificate signed by ca.pem (CN kubeadm-ha-client);
#                                          the system worker and the UI use it too
#   wrong-ca.pem wrong-ca.key              a second CA the server does not trust
#   wrong-ca-client.pem wrong-ca-client.key  a client certificate signed by wrong-ca.pem
#   expired-client.pem expired-client.key  a client certificate signed by ca.pem, valid only
#                                          2020-01-01..2020-01-02 (`openssl ca -startdate/-enddate`)
#   wrong-name-server.pem wrong-name-server.key  a server certificate signed by ca.pem for
#                                          wrong.example only (not used by the server)
#
# PostgreSQL (/usr/lib/postgresql/<newest>/bin; the `postgresql` package, installed if missing) runs
# as the postgres OS user (it refuses root), so its data directory and socket live in
# /tmp/kha-temporal-pg-<hash of DIR> (DIR may sit under an 0700 /root), removed at stop.
# KHA_TEST_CHECKOUT, when set, is passed explicitly into every process started here (postgres too,
# across runuser), so scripts/leftovers.ts can tell them apart.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
TEMPORAL_CLI=${TEMPORAL_CLI:-$HERE/.tools/venv/bin/temporal}
SEARCH_ATTRIBUTES="KubeadmHaCluster:Keyword KubeadmHaPhase:Keyword KubeadmHaStatus:Keyword KubeadmHaFailedPhase:Keyword"
NAMESPACE=default

log() { echo "temporal-prod: $*"; }
die() { echo "temporal-prod: $*" >&2; exit 1; }

usage() { echo "usage: scripts/temporal-prod.sh start DIR [PORT] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
PORT=${3:-}
[ "$CMD" = start ] && mkdir -p "$DIR"
DIR=$(realpath -m "$DIR")
PRIV=/tmp/kha-temporal-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-16)

pg_bin() {
  local bin
  bin=$(printf '%s\n' /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)
  [ -x "$bin" ] || return 1
  dirname "$bin"
}

# as_postgres CMD...: runs CMD as the postgres OS user, in $PRIV, with KHA_TEST_CHECKOUT passed on.
as_postgres() {
  local envs=(PATH=/usr/bin:/bin LC_ALL=C.UTF-8)
  [ -n "${KHA_TEST_CHECKOUT:-}" ] && envs+=("KHA_TEST_CHECKOUT=$KHA_TEST_CHECKOUT")
  (cd "$PRIV" && runuser -u postgres -- env -i "${envs[@]}" "$@")
}

# free_ports N: N distinct free TCP ports on 127.0.0.1, below 32768: Temporal's SQL schema keeps
# membership ports in a smallint column (cluster_membership.rpc_port), so a port of the kernel's
# ephemeral range (32768-60999) fails the server's start ("out of range for type smallint").
free_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
socks = []
while len(socks) < int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randint(20000, 32767)))
        socks.append(s)
    except OSError:
        s.close()
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# alive PID: the process exists and is not a zombie (postgres, double-forked by pg_ctl, is reaped by
# whatever the init of the machine is, maybe late).
alive() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid NAME PID: TERM, then KILL after 15 s.
stop_pid() {
  local name=$1 pid=$2 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do alive "$pid" || { log "stopped $name (pid $pid)"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  log "killed $name (pid $pid)"
}

cmd_stop() {
  if [ -f "$DIR/pids" ]; then
    local name pid
    while read -r name pid; do
      [ "$name" = postgres ] && continue
      stop_pid "$name" "$pid"
    done < "$DIR/pids"
  fi
  if [ -d "$PRIV" ]; then
    local bin
    if [ -f "$PRIV/data/postmaster.pid" ] && bin=$(pg_bin); then
      as_postgres "$bin/pg_ctl" -D "$PRIV/data" -m fast -w -t 30 stop >/dev/null || true
    fi
    # Whatever pg_ctl could not stop (or a postmaster.pid it never wrote).
    local pmpid
    pmpid=$(awk '$1 == "postgres" { print $2 }' "$DIR/pids" 2>/dev/null || true)
    [ -n "$pmpid" ] && stop_pid postgres "$pmpid"
    if [ -f "$PRIV/postgres.log" ]; then cp "$PRIV/postgres.log" "$DIR/postgres.log" 2>/dev/null || true; fi
    rm -rf "$PRIV"
    log "stopped PostgreSQL, removed $PRIV"
  fi
  rm -f "$DIR/pids"
}

# temporal_cli ARGS...: the temporal CLI against our frontend as the rig itself: the good client
# certificate, and in API-key mode the rig's admin key, from the profile DIR/cli.toml (0600, so no key
# in argv); the caller's TEMPORAL_* environment and config file are ignored.
temporal_cli() {
  "$TEMPORAL_CLI" --config-file "$DIR/cli.toml" --profile rig --disable-config-env "$@"
}

write_cli_profile() {
  (
    umask 077
    {
      echo '[profile.rig]'
      echo "address = \"127.0.0.1:$FRONTEND_PORT\""
      [ -n "${TEMPORAL_PROD_ADMIN_API_KEY_FILE:-}" ] && echo "api_key = \"$(cat "$TEMPORAL_PROD_ADMIN_API_KEY_FILE")\""
      echo '[profile.rig.tls]'
      echo "client_cert_path = \"$TLS/client.pem\""
      echo "client_key_path = \"$TLS/client.key\""
      echo "server_ca_cert_path = \"$TLS/ca.pem\""
      echo 'server_name = "localhost"'
    } > "$DIR/cli.toml"
  )
}

make_certs() {
  TLS=$DIR/tls
  rm -rf "$TLS"
  bash "$HERE/scripts/test-certs.sh" "$TLS"
}

start_postgres() {
  PGBIN=$(pg_bin) || {
    log "installing PostgreSQL (apt-get install postgresql)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
    PGBIN=$(pg_bin) || die "no PostgreSQL under /usr/lib/postgresql after installing it"
  }
  rm -rf "$PRIV"
  mkdir -p "$PRIV/sock"
  printf 'temporal\n' > "$PRIV/pw"
  chown -R postgres:postgres "$PRIV"; chmod 700 "$PRIV"
  as_postgres "$PGBIN/initdb" -D "$PRIV/data" -U temporal --pwfile="$PRIV/pw" -A scram-sha-256 --auth-local=trust \
    -E UTF8 --no-locale --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  rm -f "$PRIV/pw"
  as_postgres "$PGBIN/pg_ctl" -D "$PRIV/data" -l "$PRIV/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PRIV/sock -c max_connections=200" \
    start >/dev/null || { cat "$PRIV/postgres.log" >&2; die "PostgreSQL did not start"; }
  echo "postgres $(head -1 "$PRIV/data/postmaster.pid")" >> "$DIR/pids"
}

setup_schema() {
  # As compose/scripts/setup-postgres.sh, against our PostgreSQL.
  local sql=("$SERVER_DIR/temporal-sql-tool" --plugin postgres12 --ep 127.0.0.1 -u temporal -p "$PG_PORT")
  local db dir
  for db in temporal temporal_visibility; do
    case $db in
      temporal) dir=$SERVER_DIR/schema/postgresql/v12/temporal/versioned ;;
      *) dir=$SERVER_DIR/schema/postgresql/v12/visibility/versioned ;;
    esac
    SQL_PASSWORD=temporal "${sql[@]}" --db "$db" create || echo "database $db exists"
    SQL_PASSWORD=temporal "${sql[@]}" --db "$db" setup-schema -v 0.0
    SQL_PASSWORD=temporal "${sql[@]}" --db "$db" update-schema -d "$dir"
  done
}

write_server_config() {
  local cfg=$DIR/temporal/config.yaml
  mkdir -p "$DIR/temporal"
  local store
  cat > "$cfg" <<EOF
# Written by scripts/temporal-prod.sh (after go.temporal.io/server config/development-postgres12.yaml
# and docker/config_template.yaml).
log:
  stdout: true
  level: info

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
EOF
  for store in default:temporal:20 visibility:temporal_visibility:10; do
    IFS=: read -r name db conns <<<"$store"
    cat >> "$cfg" <<EOF
    postgres-$name:
      sql:
        pluginName: postgres12
        databaseName: $db
        connectAddr: "127.0.0.1:$PG_PORT"
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: $conns
        maxIdleConns: $conns
        maxConnLifetime: 1h
EOF
  done
  cat >> "$cfg" <<EOF

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  tls:
    # Internode (history, matching, worker) stays plaintext on 127.0.0.1; the frontend is mTLS.
    frontend:
      server:
        certFile: $TLS/server.pem
        keyFile: $TLS/server.key
        requireClientAuth: true
        clientCaFiles:
          - $TLS/ca.pem
      client:
        serverName: localhost
        rootCaFiles:
          - $TLS/ca.pem
$(system_worker_tls)

$(authorization_config)
services:
  frontend:
    rpc:
      grpcPort: $FRONTEND_PORT
      membershipPort: $FRONTEND_MEMBERSHIP_PORT
      httpPort: $FRONTEND_HTTP_PORT
      bindOnIP: 127.0.0.1
  matching:
    rpc:
      grpcPort: $MATCHING_PORT
      membershipPort: $MATCHING_MEMBERSHIP_PORT
      bindOnIP: 127.0.0.1
  history:
    rpc:
      grpcPort: $HISTORY_PORT
      membershipPort: $HISTORY_MEMBERSHIP_PORT
      bindOnIP: 127.0.0.1
  worker:
    rpc:
      grpcPort: $WORKER_PORT
      membershipPort: $WORKER_MEMBERSHIP_PORT
      bindOnIP: 127.0.0.1
$(internal_frontend_config)

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "localhost:$FRONTEND_PORT"

dcRedirectionPolicy:
  policy: noop

archival:
  history:
    state: disabled
  visibility:
    state: disabled

namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled

dynamicConfigClient:
  filepath: $HERE/compose/dynamicconfig/development-sql.yaml
  pollInterval: 10s
EOF
  SERVER_CONFIG=$cfg
}

# The system worker (worker service) calls the frontend like any client: with a client certificate.
# In API-key mode it calls the internal frontend instead, plaintext like the other internode traffic.
system_worker_tls() {
  [ -z "${TEMPORAL_PROD_JWKS_URL:-}" ] || return 0
  cat <<SYSTEM
    systemWorker:
      certFile: $TLS/client.pem
      keyFile: $TLS/client.key
      client:
        serverName: localhost
        rootCaFiles:
          - $TLS/ca.pem
SYSTEM
}

# API-key mode (TEMPORAL_PROD_JWKS_URL set): the frontend takes JWTs signed by a key of that JWKS as
# API keys (Temporal's default claim mapper and authorizer: "permissions": ["<namespace>:<role>"]),
# and the server's own worker goes through an internal frontend, which needs none.
authorization_config() {
  [ -n "${TEMPORAL_PROD_JWKS_URL:-}" ] || return 0
  cat <<AUTH
  authorization:
    jwtKeyProvider:
      keySourceURIs:
        - $TEMPORAL_PROD_JWKS_URL
      refreshInterval: 1m
    permissionsClaimName: permissions
    authorizer: default
    claimMapper: default
AUTH
}

internal_frontend_config() {
  [ -n "${TEMPORAL_PROD_JWKS_URL:-}" ] || return 0
  cat <<INTERNAL
  internal-frontend:
    rpc:
      grpcPort: $INTERNAL_PORT
      membershipPort: $INTERNAL_MEMBERSHIP_PORT
      httpPort: $INTERNAL_HTTP_PORT
      bindOnIP: 127.0.0.1
INTERNAL
}

write_ui_config() {
  mkdir -p "$DIR/ui/config"
  cat > "$DIR/ui/config/prod.yaml" <<EOF
# Written by scripts/temporal-prod.sh (keys as in ui-server's config/development.yaml).
temporalGrpcAddress: 127.0.0.1:$FRONTEND_PORT
host: 127.0.0.1
port: $UI_PORT
enableUi: true
defaultNamespace: $NAMESPACE
showTemporalSystemNamespace: false
notifyOnNewVersion: false
refreshInterval: 1m
cors:
  cookieInsecure: true
  allowOrigins:
    - http://127.0.0.1:$UI_PORT
    - http://localhost:$UI_PORT
auth:
  enabled: false
tls:
  caFile: $TLS/ca.pem
  certFile: $TLS/client.pem
  keyFile: $TLS/client.key
  enableHostVerification: true
  serverName: localhost
codec:
  endpoint: ${TEMPORAL_CODEC_ENDPOINT:-}
forwardHeaders:
  - X-Forwarded-For
EOF
}

# spawn NAME LOG CMD...: starts CMD in its own session, its output to LOG, records its pid in
# DIR/pids and in SPAWNED.
spawn() {
  local name=$1 logf=$2; shift 2
  setsid "$@" </dev/null >"$logf" 2>&1 &
  SPAWNED=$!
  echo "$name $SPAWNED" >> "$DIR/pids"
}

wait_frontend() {
  local i
  for ((i = 0; i < 120; i++)); do
    kill -0 "$temporal_server_PID" 2>/dev/null || { tail -30 "$DIR/temporal-server.log" >&2; die "temporal-server exited"; }
    if temporal_cli operator cluster health >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  tail -30 "$DIR/temporal-server.log" >&2
  die "the frontend did not answer over mTLS within 60 s"
}

setup_namespace() {
  # As compose/scripts/setup-namespace.sh, over mTLS.
  temporal_cli operator namespace describe -n "$NAMESPACE" >/dev/null 2>&1 ||
    temporal_cli operator namespace create -n "$NAMESPACE" >/dev/null
  local pair name type list i
  # A new namespace reaches the hosts' namespace registries at their next refresh (up to 10 s).
  for ((i = 0; ; i++)); do
    temporal_cli operator search-attribute list -n "$NAMESPACE" >/dev/null 2>"$DIR/sa.err" && break
    [ "$i" -lt 60 ] || { cat "$DIR/sa.err" >&2; die "namespace $NAMESPACE did not become usable"; }
    sleep 0.5
  done
  for pair in $SEARCH_ATTRIBUTES; do
    name=${pair%%:*}; type=${pair#*:}
    list=$(temporal_cli operator search-attribute list -n "$NAMESPACE")
    if grep -qw "$name" <<<"$list"; then continue; fi
    for ((i = 0; ; i++)); do
      temporal_cli operator search-attribute create -n "$NAMESPACE" --name "$name" --type "$type" >/dev/null 2>"$DIR/sa.err" && break
      [ "$i" -lt 30 ] || { cat "$DIR/sa.err" >&2; die "could not create search attribute $name"; }
      sleep 1
    done
  done
  rm -f "$DIR/sa.err"
}

wait_ui() {
  local i
  for ((i = 0; i < 120; i++)); do
    kill -0 "$ui_server_PID" 2>/dev/null || { tail -30 "$DIR/ui-server.log" >&2; die "ui-server exited"; }
    if curl -fsS "http://127.0.0.1:$UI_PORT/api/v1/namespaces" 2>/dev/null | grep -q "\"$NAMESPACE\""; then return 0; fi
    sleep 0.5
  done
  tail -30 "$DIR/ui-server.log" >&2
  die "the UI did not list namespace $NAMESPACE within 60 s"
}

# A start that fails half-way stops what it started.
on_start_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  echo "temporal-prod: start failed; stopping what started" >&2
  cmd_stop >&2 || true
}

cmd_start() {
  local t0=$SECONDS
  [ -x "$TEMPORAL_CLI" ] || die "no Temporal CLI at $TEMPORAL_CLI (set TEMPORAL_CLI)"
  cmd_stop >/dev/null 2>&1 || true
  eval "$("$HERE/scripts/build-temporal-server.sh" --print)"
  if ! [ -x "$SERVER_DIR/temporal-server" ] || ! [ -x "$SERVER_DIR/temporal-sql-tool" ] || ! [ -x "$UI_DIR/ui-server" ]; then
    "$HERE/scripts/build-temporal-server.sh"
  fi
  trap on_start_exit EXIT
  local ports
  read -r -a ports <<<"$(free_ports 14)"
  FRONTEND_PORT=${PORT:-${ports[0]}}
  PG_PORT=${ports[1]} FRONTEND_HTTP_PORT=${ports[2]} FRONTEND_MEMBERSHIP_PORT=${ports[3]}
  HISTORY_PORT=${ports[4]} HISTORY_MEMBERSHIP_PORT=${ports[5]} MATCHING_PORT=${ports[6]}
  MATCHING_MEMBERSHIP_PORT=${ports[7]} WORKER_PORT=${ports[8]} WORKER_MEMBERSHIP_PORT=${ports[9]} UI_PORT=${ports[10]}
  INTERNAL_PORT=${ports[11]} INTERNAL_MEMBERSHIP_PORT=${ports[12]} INTERNAL_HTTP_PORT=${ports[13]}
  : > "$DIR/pids"
  rm -f "$DIR/env"

  make_certs
  log "certificates in $TLS ($((SECONDS - t0)) s)"
  start_postgres
  log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($((SECONDS - t0)) s)"
  setup_schema >"$DIR/schema.log" 2>&1 || { tail -30 "$DIR/schema.log" >&2; die "schema setup failed"; }
  log "schema ready ($((SECONDS - t0)) s)"

  write_server_config
  write_cli_profile
  local services=(--service frontend --service history --service matching --service worker)
  # The internal frontend runs only when asked for by name.
  [ -z "${TEMPORAL_PROD_JWKS_URL:-}" ] || services+=(--service internal-frontend)
  spawn temporal-server "$DIR/temporal-server.log" "$SERVER_DIR/temporal-server" --config-file "$SERVER_CONFIG" --allow-no-auth start "${services[@]}"
  temporal_server_PID=$SPAWNED
  wait_frontend
  log "temporal-server $SERVER_VERSION: frontend on 127.0.0.1:$FRONTEND_PORT (mTLS) ($((SECONDS - t0)) s)"
  setup_namespace
  log "namespace $NAMESPACE and search attributes ready ($((SECONDS - t0)) s)"

  # The Web UI server takes no API key of ours: it runs in mTLS mode only.
  if [ -z "${TEMPORAL_PROD_JWKS_URL:-}" ]; then
    write_ui_config
    spawn ui-server "$DIR/ui-server.log" "$UI_DIR/ui-server" --root "$DIR/ui" --config config --env prod start
    ui_server_PID=$SPAWNED
    wait_ui
  fi

  {
    printf 'export %s=%q\n' \
      TEMPORAL_ADDRESS "127.0.0.1:$FRONTEND_PORT" \
      TEMPORAL_NAMESPACE "$NAMESPACE" \
      TEMPORAL_TLS_CLIENT_CERT_PATH "$TLS/client.pem" \
      TEMPORAL_TLS_CLIENT_KEY_PATH "$TLS/client.key" \
      TEMPORAL_TLS_SERVER_CA_CERT_PATH "$TLS/ca.pem" \
      TEMPORAL_TLS_SERVER_NAME localhost \
      TEMPORAL_UI_URL "http://127.0.0.1:$UI_PORT" \
      TEMPORAL_PROD_PG_PORT "$PG_PORT" \
      TEMPORAL_PROD_PG_USER temporal \
      TEMPORAL_PROD_PG_PASSWORD temporal
  } > "$DIR/env"
  trap - EXIT
  if [ -n "${TEMPORAL_PROD_JWKS_URL:-}" ]; then
    log "ready in $((SECONDS - t0)) s: frontend 127.0.0.1:$FRONTEND_PORT (mTLS and API keys signed by a key of $TEMPORAL_PROD_JWKS_URL; no Web UI), env in $DIR/env"
  else
    log "ready in $((SECONDS - t0)) s: frontend 127.0.0.1:$FRONTEND_PORT (mTLS), UI http://127.0.0.1:$UI_PORT, env in $DIR/env"
  fi
}

case $CMD in
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) usage ;;
esac
