"""
### PISA maintenance: Airflow's own history kept to `PISA_AIRFLOW_KEEP_HOURS`

**`pisa_maintenance`**, every 10 minutes: runs Airflow's cleanup (`airflow db clean`) on DAG runs,
task instances, XComs, the audit log and old jobs older than `PISA_AIRFLOW_KEEP_HOURS` (default
24 h), and deletes task log files as old. Its own runs are cleaned like any other. A run that has
not finished is never touched: the cutoff stops at the oldest one's start, and the log warns about
such a run (after a day it is stuck: mark it failed). Deletes go in batches of 5,000 rows, so the
streaming DAGs' state updates never wait long behind it.

The run's log says what it removed. To keep more history, raise `PISA_AIRFLOW_KEEP_HOURS`
(every 10 minutes about 440 runs and, with quiet task logs, about 0.4 MB of logs are added).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task

from pisa.config import load_settings

CLEAN_EVERY = timedelta(minutes=10)


@dag(dag_id="pisa_maintenance", schedule=CLEAN_EVERY, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
     catchup=False, max_active_runs=1, tags=["pisa", "maintenance"], doc_md=__doc__,
     default_args={"owner": "gei-data", "retries": 1, "retry_delay": timedelta(minutes=1),
                   "execution_timeout": timedelta(minutes=30)})
def pisa_maintenance():
    @task
    def clean_airflow_history() -> None:
        """Remove metadata rows and task log files older than PISA_AIRFLOW_KEEP_HOURS."""
        import logging
        from pathlib import Path

        from airflow.configuration import conf

        from pisa.airflow_retention import clean_airflow_history as clean
        from pisa.airflow_connections import connection_url

        report = clean(connection_url("pisa_airflow_db"), Path(conf.get("logging", "base_log_folder")),
                       load_settings().airflow_keep_hours)
        # A run still unfinished after the whole retention period is stuck: a warning for ops.
        level = logging.WARNING if report.held_back_by else logging.INFO
        logging.getLogger("pisa.airflow_retention").log(level, "%s", report.describe())

    clean_airflow_history()


pisa_maintenance()
