"""
### PISA sync: one streaming DAG and one reconcile DAG per source

Built from one definition for every source in `PISA_SOURCES`:

* **`pisa_sync_<cnt>`**, every 30 s, `max_active_runs=2`. Its one task, `stream`, queues for the
  source's sync lease, takes it from the previous run, syncs (streaming from the source's
  replication slot with capture `wal`, in sub-second polls with `xmin`), and hands the lease and
  the slot over as soon as the next run queues behind it: consecutive runs overlap by the next
  run's start-up, so the data never stops flowing (Level 3 freshness). The run's summary ends its log
  (rows, deletes, max lag, why it ended); a notable poll (a catch-up, a lag of 1 s or more, a
  repair) has a line of its own.
* **`pisa_reconcile_<cnt>`**, every 5 minutes: a poll plus the checksum repair pass (deletes and
  drift). The streaming run lends it the lease (and the slot) for that pass. A source on `wal`
  streams its deletes: its pass runs hourly, and the runs between say they skipped.

Each DAG runs at its own phase of its period (`PhasedTimetable`, schedule column "every 30 s at
+1.5 s"): the twenty sources sync 1.5 s apart and reconcile half-way between two sync ticks, so
task start-ups never pile up in the same second (`pisa/schedule.py`).

Connections come from `AIRFLOW_CONN_PISA_CENTRAL` and `AIRFLOW_CONN_PISA_SRC_<CNT>`
(PostgresHook). A failed run retries with exponential back-off; a run stuck inside a database
call loses its lease through server-side guards (`PISA_LEASE_TIMEOUT_SECONDS`), not through
`execution_timeout`, which cannot interrupt a blocking libpq call.

Ops: the Grid view shows one run every 30 s per source, each lasting about 30 s; a run's log
says how long it waited for the lease and why it ended. Pausing `pisa_sync_<cnt>` stops that
source after the current run's stream limit (5 minutes) or at once when its task is marked failed.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import Param, dag, get_current_context, task

from pisa.airflow_connections import connection_url
from pisa.airflow_timetable import PhasedTimetable
from pisa.config import Settings, load_settings
from pisa.schedule import dag_id

STREAM_LIMIT = timedelta(minutes=5)       # a run with no successor (scheduler down) ends here
FIRST_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEFAULT_ARGS = {
    "owner": "gei-data",
    "retries": 5,
    "retry_delay": timedelta(seconds=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=2),
    "execution_timeout": STREAM_LIMIT + timedelta(minutes=2),
}


def task_settings(source: str) -> Settings:
    """The sync settings of one source, with its connections resolved by Airflow (at run time)."""
    source_url = connection_url(f"pisa_src_{source.lower()}").replace("{", "{{").replace("}", "}}")
    return load_settings().replace(central_url=connection_url("pisa_central"), source_url_template=source_url)


def build_sync_dag(source: str, sources: tuple[str, ...]):
    @dag(dag_id=dag_id("sync", source), schedule=PhasedTimetable.for_dag("sync", source, sources),
         start_date=FIRST_START, catchup=False, max_active_runs=2, tags=["pisa", "sync", source],
         default_args=DEFAULT_ARGS, doc_md=__doc__,
         params={"stream_seconds": Param(STREAM_LIMIT.total_seconds(), type="number")})
    def sync():
        @task
        def stream() -> None:
            """Take the lease from the previous run, stream, hand over to the next (the run's
            summary ends its log; no XCom: 57,600 of them a day would only be cleaned again)."""
            from pisa.sync.slots import stream_slot

            seconds = float(get_current_context()["params"]["stream_seconds"])
            stream_slot(task_settings(source), source, max_seconds=seconds)

        stream()

    return sync()


def build_reconcile_dag(source: str, sources: tuple[str, ...]):
    @dag(dag_id=dag_id("reconcile", source), schedule=PhasedTimetable.for_dag("reconcile", source, sources),
         start_date=FIRST_START, catchup=False, max_active_runs=1,
         tags=["pisa", "reconcile", source], default_args=DEFAULT_ARGS, doc_md=__doc__)
    def reconcile_dag():
        @task
        def reconcile() -> None:
            """A poll plus the checksum repair pass: deleted and drifted rows."""
            from pisa.sync.slots import reconcile_slot

            reconcile_slot(task_settings(source), source)

        reconcile()

    return reconcile_dag()


_sources = load_settings().sources
for _source in _sources:
    for _dag in (build_sync_dag(_source, _sources), build_reconcile_dag(_source, _sources)):
        globals()[_dag.dag_id] = _dag
