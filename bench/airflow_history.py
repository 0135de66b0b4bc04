"""Airflow history made on purpose, for the retention test and benchmark: runs and task instances
copied from a DAG's latest real run, as if the scheduler had made one every `every` since `first`."""
from __future__ import annotations

from datetime import datetime, timedelta

from pisa import db


def add_history(conn, dag_id: str, first: datetime, last: datetime, every: timedelta, state: str = "success") -> int:
    """Add one run of `dag_id` (with its task instances) per start time; returns the runs added."""
    params = {"dag_id": dag_id, "first": first, "last": last, "every": every, "state": state}
    with conn.cursor() as cur:
        cur.execute(db.load_sql("bench/clone_dag_runs.sql"), params)
        runs = cur.rowcount
        cur.execute(db.load_sql("bench/clone_task_instances.sql"), params)
    conn.commit()
    return runs
