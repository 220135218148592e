#!/usr/bin/env bash
# Start, stop or show the project-local PostgreSQL cluster that `make demo` and `make test` use.
#
#   scripts/warehouse.sh start   # idempotent: init on first use, start if not running
#   scripts/warehouse.sh stop
#   scripts/warehouse.sh status
#
# When WAREHOUSE_DSN is set, the existing server it names is used and nothing is started.
# Otherwise a cluster lives under .warehouse/pg on its own port (derived from the project path,
# or D06_PG_PORT).  As root, PostgreSQL refuses to run, so the cluster runs as the unprivileged
# `postgres` user; if that user cannot enter the project directory, the data directory is kept
# under /var/tmp and .warehouse/pg points at it.
#
# The result is .warehouse/env.sh, which every make target sources.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
state="$here/.warehouse"
mkdir -p "$state"
envfile="$state/env.sh"

pgbin=${PG_BIN:-}
if [ -z "$pgbin" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pgbin=$d; done
fi

port=${D06_PG_PORT:-$(( 40000 + $(printf '%s' "$here" | cksum | cut -d' ' -f1) % 20000 ))}
user=d06
db=d06

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

datadir() {
  if [ "$(id -u)" != 0 ] || { runuser -u postgres -- test -x "$state" 2>/dev/null && runuser -u postgres -- test -w "$state"; }; then
    echo "$state/pg"
  else
    echo "/var/tmp/d06-warehouse-$(printf '%s' "$here" | cksum | cut -d' ' -f1)/pg"
  fi
}

write_env() {
  local dsn=$1
  cat > "$envfile" <<ENV
# Written by scripts/warehouse.sh; sourced by make.  Local development settings only.
export WAREHOUSE_DSN='$dsn'
export D06_PROJECT_DIR='$here'
export D06_DATA_DIR='$state'
export D06_RETRY_DELAY_SECONDS=\${D06_RETRY_DELAY_SECONDS:-5}
export D06_BI_READER_PASSWORD='$(cat "$state/bi_reader.password" 2>/dev/null)'
export D06_SMTP_HOST=127.0.0.1
export D06_SMTP_PORT=${D06_SMTP_PORT:-$((port + 1))}
# Airflow's own failure notices (ingest/orchestration.py) go through the same local SMTP sink.
export AIRFLOW_CONN_SMTP_DEFAULT="smtp://127.0.0.1:\${D06_SMTP_PORT}?disable_ssl=true&disable_tls=true&from_email=airflow%40d06.example"
export AIRFLOW_HOME='$state/airflow'
export AIRFLOW__CORE__DAGS_FOLDER='$here/dags'
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN='sqlite:///$state/airflow/airflow.db'
export AIRFLOW__LOGGING__BASE_LOG_FOLDER='$state/airflow/logs'
export AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP='.*'
ENV
}

start() {
  if [ -n "${WAREHOUSE_DSN:-}" ]; then
    echo "warehouse: using the server in WAREHOUSE_DSN"
    write_env "$WAREHOUSE_DSN"
    return
  fi
  [ -n "$pgbin" ] || { echo "warehouse: PostgreSQL server binaries not found (set PG_BIN)" >&2; exit 1; }
  local data; data=$(datadir)
  local top; top=$(dirname "$data")
  mkdir -p "$top"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$top"; fi
  if [ -f "$data/PG_VERSION" ] && [ ! -s "$top/pg.password" ]; then
    # A cluster whose password is lost cannot be used: it is a local scratch cluster, start afresh.
    echo "warehouse: $data has no password on record; re-initialising it"
    as_owner "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$data"
  fi
  # The passwords live beside the data directory, so a new clone at the same path (which finds
  # the same cluster) gets the password the cluster was initialised with.
  for secret in pg.password bi_reader.password; do
    if [ ! -s "$top/$secret" ]; then
      (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$top/$secret")
    fi
    [ "$top" = "$state" ] || install -m 600 "$top/$secret" "$state/$secret"
  done
  if [ ! -f "$data/PG_VERSION" ]; then
    local pwfile="$top/pwfile"
    install -m 600 "$state/pg.password" "$pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
    as_owner "$pgbin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$top'
max_connections = 60
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  if ! as_owner "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$data" -l "$top/server.log" -w -t 60 start >/dev/null
  fi
  local pw; pw=$(cat "$state/pg.password")
  export PGPASSWORD=$pw
  if ! psql -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U "$user" -d postgres -qc "create database $db" >/dev/null
  fi
  write_env "postgresql://$user:$pw@127.0.0.1:$port/$db"
  echo "warehouse: PostgreSQL on 127.0.0.1:$port (data in $data)"
}

stop() {
  local data; data=$(datadir)
  if [ -f "$data/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    echo "warehouse: stopped"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) as_owner "$pgbin/pg_ctl" -D "$(datadir)" status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
