#!/usr/bin/env bash
# `make run`: the whole product on this machine, from nothing to live, and stopped by Ctrl-C.
# Today that is: the source databases (created if absent), the central schema, the simulator
# writing into the sources (PISA_SIM_RATE rows/s; 0 runs none) and the sync core following them.
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
echo "Running: simulator and sync (Ctrl-C stops both). Sync state: psql \"\${PISA_CENTRAL_URL:-postgresql://postgres@127.0.0.1:5432/pisa_central}\" -c 'table sync_state'"
wait "${pids[@]}"
