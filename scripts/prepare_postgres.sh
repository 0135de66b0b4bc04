#!/usr/bin/env bash
# The local PostgreSQL made ready for the whole product, for `make run` and `make test` alike
# (pisa/local_server.py: max_connections, autovacuum, logical replication). Each change is said on the console; one
# that needs a restart gets it here, once. A server already ready is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0; .venv/bin/python -m pisa.local_server || status=$?
if [ "$status" = 3 ]; then
    echo "Restarting PostgreSQL to apply that"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
    until pg_isready -h 127.0.0.1 -p 5432 -q; do sleep 0.5; done
elif [ "$status" != 0 ]; then
    exit "$status"
fi
