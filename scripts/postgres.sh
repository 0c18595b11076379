#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on loopback for the integration tests (installing it from
# Debian's packages first when it is missing) and prints the SQLAlchemy URL of its database.
# Usage: scripts/postgres.sh start|stop   (port: $AML_PG_PORT, default 54329)
set -euo pipefail
port=${AML_PG_PORT:-54329}
data=/tmp/aml-postgres-$port
bin=""
find_bin() { bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true); }
find_bin
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    if [ -z "$bin" ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      find_bin
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      rm -rf "$data" && mkdir -p "$data" && chown postgres: "$data" 2>/dev/null || true
      as_postgres "$bin/initdb" -D "$data" --auth=trust -U postgres >/dev/null
      as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >&2
    fi
    echo "postgresql+psycopg2://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -n "$bin" ] && as_postgres "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true
    ;;
esac
