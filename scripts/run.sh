#!/usr/bin/env bash
# `make run`: the whole product on this machine, from nothing to live, and stopped by Ctrl-C.
# Today that is: the source databases (created if absent), the central schema, the simulator
# writing into the sources (PISA_SIM_RATE rows/s; 0 runs none), the sync core following them and
# the dashboard API under gunicorn on PISA_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
PISA=.venv/bin/pisa
[ -f .env ] && set -a && . ./.env && set +a

$PISA sources init                  # keeps sources that already exist
$PISA central init

pids=()
stop() {
    trap - INT TERM EXIT
    echo "Stopping: ${#pids[@]} process(es)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

if [ "${PISA_SIM_RATE:-20}" != "0" ]; then
    $PISA simulate &
    pids+=($!)
else
    echo "PISA_SIM_RATE=0: no simulator started"
fi
$PISA sync &
pids+=($!)
.venv/bin/gunicorn --config gunicorn.conf.py "dashboard:create_app()" &
pids+=($!)
port="${PISA_PORT:-8000}"
echo "Running: simulator, sync and the API (Ctrl-C stops them all)."
echo "  API:     http://127.0.0.1:$port/submissions  (also /sot /tmins /escs /eeb)"
echo "  Summary: http://127.0.0.1:$port/api/v1/summary   Sources: http://127.0.0.1:$port/api/v1/sources"
echo "  OpenAPI: http://127.0.0.1:$port/api/v1/openapi.json   Health: http://127.0.0.1:$port/healthz"
wait "${pids[@]}"
