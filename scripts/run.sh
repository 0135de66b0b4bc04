#!/usr/bin/env bash
# `make run`: the whole product on this machine, from nothing to live, stopped by Ctrl-C.
#   sources (created if absent) -> simulator (PISA_SIM_RATE rows/s; 0: none)
#   Airflow (scheduler, DAG processor, triggerer, API server; 41 DAGs, unpaused) -> central DB
#   dashboard (chart page and API) under gunicorn on PISA_PORT
# Each part is restarted if it exits unasked (pisa/supervisor.py); Ctrl-C or TERM stops them all.
# PISA_RUN_SYNC=cli runs the sync core's own follower (`pisa sync`) instead of Airflow.
set -euo pipefail
cd "$(dirname "$0")/.."
PISA=.venv/bin/pisa
[ -f .env ] && set -a && . ./.env && set +a
export PATH="$PWD/.venv/bin:$PATH"          # airflow starts its parts by calling `airflow`
# Every PISA_* setting as pisa/config.py resolves it (environment, .env, defaults), validated:
# assigned before the eval, so that a configuration error stops `make run` here.
settings="$(.venv/bin/python -m pisa.shell_env)"
eval "$settings"
# A port still held (say by parts of an earlier run) is named with its holder now, not found by a
# part failing to bind after the others have started.
.venv/bin/python -m pisa.ports || exit 1

scripts/prepare_postgres.sh                 # max_connections, autovacuum: said when changed
$PISA sources init                          # keeps sources that already exist
$PISA central init

if [ "$PISA_RUN_SYNC" = airflow ]; then
    eval "$(.venv/bin/python -m pisa.airflow_env)"
    .venv/bin/python -m pisa.airflow_env --prepare
    mkdir -p "$AIRFLOW_HOME"
    echo "Migrating Airflow's metadata database..."
    airflow db migrate >"$AIRFLOW_HOME/migrate.log" 2>&1 || { tail -20 "$AIRFLOW_HOME/migrate.log"; exit 1; }
    mkdir -p "$AIRFLOW_HOME/logs"
    # The API server prints the generated admin password into its log: Airflow's files are readable
    # by their owner only (appending keeps an existing file's mode, hence the chmod).
    umask 077
    chmod -R go-rwx "$AIRFLOW_HOME"
fi

[ "$PISA_SIM_RATE" = 0 ] && echo "PISA_SIM_RATE=0: no simulator started"
echo "Running (Ctrl-C stops everything):"
echo "  Chart page:    http://127.0.0.1:$PISA_PORT/"
echo "  Dashboard API: http://127.0.0.1:$PISA_PORT/api/v1/summary  (Forage: /submissions /sot /tmins /escs /eeb)"
echo "  Sources:       http://127.0.0.1:$PISA_PORT/api/v1/sources   OpenAPI: http://127.0.0.1:$PISA_PORT/api/v1/openapi.json"
if [ "$PISA_RUN_SYNC" = airflow ]; then
    echo "  Airflow UI:    $AIRFLOW__API__BASE_URL  (on $AIRFLOW__API__HOST; logs: $AIRFLOW_HOME/logs)"
    # The password stays in its file (mode 0600), off the console and whatever records it.
    echo "  Airflow login: admin, password in $AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
fi
# The supervisor starts the parts, restarts one that exits unasked (with back-off, saying which
# and why) and stops them all on Ctrl-C or TERM, however often it is sent.
exec .venv/bin/python -m pisa.supervisor
