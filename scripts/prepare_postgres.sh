#!/usr/bin/env bash
# The local PostgreSQL made ready for the whole product, for `make run` and `make test` alike:
# max_connections of at least 300 (twenty sources under Airflow). A change needs one restart,
# said on the console; a server already ready is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0; .venv/bin/python -m pisa.airflow_env --check-connections || status=$?
if [ "$status" = 3 ]; then
    echo "Raising PostgreSQL's max_connections to 300 for twenty sources under Airflow (restarts PostgreSQL)"
    .venv/bin/python -m pisa.airflow_env --raise-max-connections
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
    until pg_isready -h 127.0.0.1 -p 5432 -q; do sleep 0.5; done
elif [ "$status" != 0 ]; then
    exit "$status"
fi
