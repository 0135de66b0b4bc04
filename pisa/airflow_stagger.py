"""Spread the DAGs' runs 1.5 s apart over the 30 s period (`make run` starts this).

A 30 s timedelta schedule with catchup off counts from when the DAG processor first saw the DAGs,
so DAGs parsed together tick in step (their staggered start dates, being in the past, do not
help), and twenty task start-ups in the same second starve every running stream of CPU for one to
three seconds. Once the first parse passes are over, each DAG's next run is set 1.5 s after the
previous DAG's; every later run follows its own 30 s from there. Checked, and set again if a
re-parse put them back in step.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

from pisa.config import load_settings

SETTLE_S = 45            # the DAG processor's first passes rewrite next_dagrun: let them finish
PERIOD_S = 30.0
ATTEMPTS = 3


def sync_dag_ids() -> list[str]:
    return [f"pisa_sync_{source.lower()}" for source in load_settings().sources]


def next_runs(dag_ids: list[str]):
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        models = [session.get(DagModel, dag_id) for dag_id in dag_ids]
        return [m.next_dagrun if m else None for m in models]


def spread(dag_ids: list[str]) -> None:
    """Next runs 1.5 s apart; each reconcile DAG (every 5 min, also parsed in step) half-way
    between two sync DAGs, so its start-up never lands on theirs."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    spacing = PERIOD_S / len(dag_ids)
    first = datetime.now(timezone.utc) + timedelta(seconds=5)
    with create_session() as session:
        for index, dag_id in enumerate(dag_ids):
            for name, offset in ((dag_id, 0.0), (dag_id.replace("pisa_sync_", "pisa_reconcile_"), spacing / 2)):
                when = first + timedelta(seconds=index * spacing + offset)
                model = session.get(DagModel, name)
                model.next_dagrun = model.next_dagrun_create_after = when
                model.next_dagrun_data_interval_start = model.next_dagrun_data_interval_end = when


def in_step(runs) -> bool:
    """True when two DAGs' next runs fall within 0.5 s of each other within the period."""
    phases = sorted((run.timestamp() % PERIOD_S) for run in runs)
    return any(b - a < 0.5 for a, b in zip(phases, phases[1:]))


def main() -> int:
    dag_ids = sync_dag_ids()
    deadline = time.monotonic() + 240
    while None in next_runs(dag_ids):
        if time.monotonic() > deadline:
            print("the sync DAGs were never scheduled; see the scheduler log", file=sys.stderr)
            return 1
        time.sleep(2)
    time.sleep(SETTLE_S)
    for _ in range(ATTEMPTS):
        spread(dag_ids)
        time.sleep(2 * PERIOD_S)
        if not in_step(next_runs(dag_ids)):
            print(f"{len(dag_ids)} sync DAGs now run {PERIOD_S / len(dag_ids):.1f} s apart", flush=True)
            return 0
    print("the sync DAGs fell back in step after spreading them", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
