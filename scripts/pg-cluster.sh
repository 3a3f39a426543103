#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests of the PostgreSQL key store
# (src/keystore/backend/postgres_tests.rs).
#
#   bash scripts/pg-cluster.sh start    install PostgreSQL if missing (through
#                                       scripts/install-deps.sh), create a cluster in
#                                       a new temporary folder, start it, create the
#                                       database localkms, print its URL
#   bash scripts/pg-cluster.sh url      print the URL of the running cluster
#   bash scripts/pg-cluster.sh stop     stop the cluster and remove its folder
#   bash scripts/pg-cluster.sh run CMD...
#                                       start, run CMD with LOCALKMS_TEST_POSTGRES_URL
#                                       set, stop (also when CMD fails); CMD's status
#
# The server listens only on a Unix socket in the cluster's folder (no TCP), so
# the URL is postgresql://postgres@%2Ftmp%2Flocalkms-pg.XXXXXX/localkms. The role
# postgres (superuser) is trusted on that socket; every other role needs its
# password: localkms_pw, with the password 'Pw@:/?-test', is there for the tests
# of password authentication. Durability is switched off (fsync=off): test data
# only.
#
# As root the server runs as the OS user postgres (PostgreSQL refuses to run as
# root); otherwise as the user running this. The folder of the running cluster is
# recorded in build/pg-cluster.dir (LOCALKMS_PG_STATE overrides), so that url and
# stop find it. Set PG_BINDIR to use other PostgreSQL binaries.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
state="${LOCALKMS_PG_STATE:-$repo/build/pg-cluster.dir}"

die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

# The folder of PostgreSQL's server binaries: PG_BINDIR, the newest Debian
# /usr/lib/postgresql/<version>/bin, or wherever initdb is on PATH.
find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && { echo "$PG_BINDIR"; return 0; }
    return 1
  fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
    return 0
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

bindir() {
  local dir
  if dir="$(find_bindir)"; then
    echo "$dir"
    return 0
  fi
  echo "pg-cluster: PostgreSQL is not installed; installing it" >&2
  bash "$repo/scripts/install-deps.sh" postgresql >&2 || die "installing PostgreSQL failed"
  dir="$(find_bindir)" || die "PostgreSQL's binaries (initdb, pg_ctl) are not found after installing it"
  echo "$dir"
}

# Runs a command as the server's OS user, from the cluster's folder (the
# postgres user cannot enter root's working directory).
as_server() {
  local dir="$1"
  shift
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd "$dir" && runuser -u postgres -- "$@")
    else
      (cd "$dir" && su -s /bin/sh postgres -c "$(printf '%q ' "$@")")
    fi
  else
    (cd "$dir" && "$@")
  fi
}

url_for() {
  # The socket folder, percent-encoded in the host part (mktemp's names are
  # letters and digits; only the slashes need it).
  local host="${1//\//%2F}"
  echo "postgresql://postgres@${host}/localkms"
}

cluster_dir() {
  [ -f "$state" ] || return 1
  local dir
  dir="$(cat "$state")"
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 1
  echo "$dir"
}

running() {
  local dir="$1" bin
  bin="$(find_bindir)" || return 1
  as_server "$dir" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

remove() {
  local dir="$1" bin
  if bin="$(find_bindir)" && [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$dir" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_server "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    */localkms-pg.*) rm -rf "$dir" ;;
  esac
  rm -f "$state"
}

start() {
  local dir bin
  if dir="$(cluster_dir)"; then
    if running "$dir"; then
      url_for "$dir"
      return 0
    fi
    remove "$dir"
  fi
  bin="$(bindir)"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres ||
      die "cannot create the OS user postgres to run the server"
  fi
  # Not $TMPDIR: the server's user must reach the folder, and a socket's path
  # must stay short (107 bytes).
  dir="$(mktemp -d "${LOCALKMS_PG_TMP:-/tmp}/localkms-pg.XXXXXX")"
  mkdir -p "$(dirname "$state")"
  echo "$dir" >"$state"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  chmod 0700 "$dir"

  if ! as_server "$dir" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=reject --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2 || true
    remove "$dir"
    die "initdb failed"
  fi
  as_server "$dir" sh -c "cat > '$dir/data/pg_hba.conf'" <<'EOF'
# localkms test cluster: the superuser by the socket alone, every other role by password.
local all postgres trust
local all all scram-sha-256
EOF
  as_server "$dir" sh -c "cat >> '$dir/data/postgresql.conf'" <<EOF

# localkms test cluster
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = scram-sha-256
EOF
  if ! as_server "$dir" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
    echo "pg-cluster: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    remove "$dir"
    die "pg_ctl start failed"
  fi
  local psql="$bin/psql"
  [ -x "$psql" ] || psql="$(command -v psql || true)"
  [ -n "$psql" ] || { remove "$dir"; die "psql is not found"; }
  if ! "$psql" -X -q -h "$dir" -U postgres -d postgres -v ON_ERROR_STOP=1 >"$dir/setup.log" 2>&1 <<'EOF'; then
CREATE DATABASE localkms;
CREATE ROLE localkms_pw LOGIN PASSWORD 'Pw@:/?-test';
EOF
    cat "$dir/setup.log" >&2 || true
    remove "$dir"
    die "creating the database localkms failed"
  fi
  url_for "$dir"
}

stop() {
  local dir
  if dir="$(cluster_dir)"; then
    remove "$dir"
  else
    rm -f "$state"
  fi
}

case "${1:-}" in
  start)
    start
    ;;
  url)
    dir="$(cluster_dir)" || die "no cluster (bash scripts/pg-cluster.sh start)"
    running "$dir" || die "the cluster in $dir is not running"
    url_for "$dir"
    ;;
  stop)
    stop
    ;;
  halt)
    # Stops the server but keeps the cluster (for tests of a server going away).
    dir="$(cluster_dir)" || die "no cluster (bash scripts/pg-cluster.sh start)"
    as_server "$dir" "$(find_bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ||
      die "the server did not stop"
    ;;
  resume)
    # Starts a halted cluster's server again.
    dir="$(cluster_dir)" || die "no cluster (bash scripts/pg-cluster.sh start)"
    as_server "$dir" "$(find_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      die "the server did not start again"
    ;;
  run)
    shift
    [ "$#" -gt 0 ] || die "run: no command"
    url="$(start)"
    trap stop EXIT
    status=0
    LOCALKMS_TEST_POSTGRES_URL="$url" "$@" || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: bash scripts/pg-cluster.sh start|url|stop|halt|resume|run COMMAND..." >&2
    exit 2
    ;;
esac
