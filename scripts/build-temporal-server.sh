#!/usr/bin/env bash
# Builds a production-like Temporal server and its Web UI from Go modules, at the versions
# temporal-compose.yml pins (the image tags temporalio/server:<X> and temporalio/ui:<Y>, so the
# compose file stays the one place they are pinned), into git-ignored folders:
#
#   .tools/temporal-server/v<X>/temporal-server      go.temporal.io/server ./cmd/server
#   .tools/temporal-server/v<X>/temporal-sql-tool    go.temporal.io/server ./cmd/tools/sql
#   .tools/temporal-server/v<X>/schema/postgresql/v12/{temporal,visibility}/...
#                                                    the module's schema files, for temporal-sql-tool
#   .tools/temporal-ui/v<Y>/ui-server                github.com/temporalio/ui-server/v2 ./cmd/server
#                                                    (the module embeds the built UI assets)
#
# Both binaries of the server come from ONE `go build` inside the module's own directory, so the
# dependency versions are the ones upstream released with (its go.mod/go.sum) and the packages they
# share compile once; the UI is a second module, so a second build. As upstream's Makefile does:
# CGO_ENABLED=0 and the build tag disable_grpc_modules. Each folder holds a `stamp` with its cache
# key (version, module checksum, build flags); a folder whose stamp matches is reused.
#
#   scripts/build-temporal-server.sh            # both
#   scripts/build-temporal-server.sh --print    # only print the two output folders (SERVER_DIR=, UI_DIR=)
#
# Used by scripts/temporal-prod.sh (which runs it when the binaries are missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
command -v go >/dev/null || { echo "build-temporal-server: needs Go (go.dev/doc/install); the modules come from the Go module proxy" >&2; exit 1; }
source "$ROOT/scripts/go-build.sh"

log() { echo "build-temporal-server: $*"; }

# image_tag IMAGE: the tag of IMAGE in temporal-compose.yml (the first "image: IMAGE:TAG" line).
image_tag() {
  local tag
  tag=$(sed -n "s#^\s*image:\s*$1:\([0-9][0-9A-Za-z.+-]*\)\s*\$#\1#p" "$ROOT/temporal-compose.yml" | head -1)
  [ -n "$tag" ] || { echo "build-temporal-server: no '$1:<tag>' image in temporal-compose.yml" >&2; return 1; }
  echo "v$tag"
}

SERVER_VERSION=$(image_tag temporalio/server)
UI_VERSION=$(image_tag temporalio/ui)
SERVER_DIR=$ROOT/.tools/temporal-server/$SERVER_VERSION
UI_DIR=$ROOT/.tools/temporal-ui/$UI_VERSION
if [ "${1:-}" = "--print" ]; then
  printf 'SERVER_VERSION=%q\nSERVER_DIR=%q\nUI_VERSION=%q\nUI_DIR=%q\n' "$SERVER_VERSION" "$SERVER_DIR" "$UI_VERSION" "$UI_DIR"
  exit 0
fi

BUILD_FLAGS=(-trimpath -tags disable_grpc_modules -ldflags "-s -w")

# build_in MODDIR LABEL OUTDIR PACKAGES...: fetches the modules the packages need (timed apart from
# the compile, so the two costs show), then ONE go build of the packages into OUTDIR. Runs in the
# module's directory in the module cache: read-only, which a build with a complete go.sum does not mind.
build_in() {
  local moddir=$1 label=$2 outdir=$3; shift 3
  local t=$SECONDS
  (cd "$moddir" && CGO_ENABLED=0 go list -tags disable_grpc_modules -deps "$@" >/dev/null)
  log "$label: modules downloaded in $((SECONDS - t)) s"
  (cd "$moddir" && CGO_ENABLED=0 go_build_with_progress "build-temporal-server $label" "${BUILD_FLAGS[@]}" -o "$outdir/" "$@")
}

build_server() {
  local info; info=$(module_info "go.temporal.io/server@$SERVER_VERSION")
  local src=${info% *} key="temporal-server $SERVER_VERSION ${info#* } ${BUILD_FLAGS[*]}"
  if cached "$SERVER_DIR" "$key" temporal-server temporal-sql-tool schema/postgresql/v12; then
    log "$SERVER_VERSION is cached in $SERVER_DIR"; return
  fi
  local work start=$SECONDS; work=$(mktemp -d /tmp/temporal-build.XXXXXX)
  build_in "$src" "$SERVER_VERSION" "$work/bin" ./cmd/server ./cmd/tools/sql
  rm -rf "$SERVER_DIR"; mkdir -p "$SERVER_DIR/schema/postgresql"
  mv "$work/bin/server" "$SERVER_DIR/temporal-server"
  mv "$work/bin/sql" "$SERVER_DIR/temporal-sql-tool"
  cp -r "$src/schema/postgresql/v12" "$SERVER_DIR/schema/postgresql/"
  chmod -R u+w "$SERVER_DIR/schema"
  rm -rf "$work"
  echo "$key" > "$SERVER_DIR/stamp"
  log "$SERVER_VERSION -> $SERVER_DIR ($((SECONDS - start)) s; $("$SERVER_DIR/temporal-server" --version 2>/dev/null || echo built))"
}

build_ui() {
  local info; info=$(module_info "github.com/temporalio/ui-server/v2@$UI_VERSION")
  local src=${info% *} key="ui-server $UI_VERSION ${info#* } ${BUILD_FLAGS[*]}"
  if cached "$UI_DIR" "$key" ui-server; then log "ui-server $UI_VERSION is cached in $UI_DIR"; return; fi
  local work start=$SECONDS; work=$(mktemp -d /tmp/temporal-build.XXXXXX)
  build_in "$src" "ui-server $UI_VERSION" "$work/bin" ./cmd/server
  rm -rf "$UI_DIR"; mkdir -p "$UI_DIR"
  mv "$work/bin/server" "$UI_DIR/ui-server"
  rm -rf "$work"
  echo "$key" > "$UI_DIR/stamp"
  log "ui-server $UI_VERSION -> $UI_DIR ($((SECONDS - start)) s)"
}

build_server
build_ui
