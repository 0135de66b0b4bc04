"""A week of Airflow history, and the cleanup that brings it back: scheduler loop time before and after.

    .venv/bin/python bench/history.py [--days 7] [--measure-seconds 120]

Starts the product as `make run` does (Airflow's StatsD metrics sent here) and, with it running:
  1. measures the scheduler's loop time (`scheduler.scheduler_loop_duration`) for
     --measure-seconds with the history it has;
  2. adds --days of history before its first run, at today's rate: every sync DAG every 30 s,
     every reconcile DAG every 5 minutes, the maintenance DAG every 10 (runs and task instances
     copied from each DAG's latest real run: bench/airflow_history.py), about 444,000 runs a week;
  3. measures the loop time again;
  4. runs the maintenance DAG's cleanup (`pisa.airflow_retention`, the code the DAG runs) with
     PISA_AIRFLOW_KEEP_HOURS=24, and times it;
  5. measures the loop time once more.
Marked rows (2 a second) are timed from their commit to the central facts throughout, so the
figures show whether the cleanup holds the sync back. Prints each stage's metadata DB size, runs,
loop time p50/p95/max and freshness p50/p99.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.airflow_history import add_history  # noqa: E402
from bench.common import machine_line, start_product, stop_product  # noqa: E402
from bench.soak import LoopTimes, MarkedRows, airflow_history_size, percentile  # noqa: E402
from pisa import db, schedule  # noqa: E402
from pisa.airflow_env import airflow_environment, airflow_home  # noqa: E402
from pisa.airflow_retention import clean_airflow_history  # noqa: E402
from pisa.config import load_settings  # noqa: E402

KEEP_HOURS = 24.0
EVERY = {"sync": schedule.SYNC_PERIOD, "reconcile": schedule.RECONCILE_PERIOD}
MAINTENANCE_EVERY = timedelta(minutes=10)      # dags/pisa_maintenance.py


def airflow(settings, *args: str) -> None:
    """An `airflow` command against the running product's Airflow."""
    env = {**os.environ, **airflow_environment(settings)}
    subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def add_week(settings, days: float) -> int:
    """`days` of history for every DAG, ending before the oldest run there is."""
    with closing(db.connect(settings.airflow_db_url, application_name="pisa-bench-history")) as conn:
        with conn.cursor() as cur:
            cur.execute(db.load_sql("bench/oldest_run_start.sql"))
            last = cur.fetchone()[0] - timedelta(minutes=10)
        dags = [(schedule.dag_id(kind, source), every) for kind, every in EVERY.items() for source in settings.sources]
        dags.append(("pisa_maintenance", MAINTENANCE_EVERY))
        added = 0
        for dag_id, every in dags:
            added += add_history(conn, dag_id, last - timedelta(days=days), last, every)
        with conn.cursor() as cur:
            cur.execute(db.load_sql("bench/analyze_airflow_history.sql"))
        conn.commit()
        return added


class Stages:
    """Each stage's figures, printed as it ends."""

    def __init__(self, settings, loops: LoopTimes, marked: MarkedRows):
        self.settings, self.loops, self.marked = settings, loops, marked
        self.started = time.time()

    def measure(self, name: str, seconds: float) -> None:
        self.loops.take()
        t0 = time.time()
        time.sleep(seconds)
        self.report(name, t0)

    def report(self, name: str, t0: float) -> None:
        loop = sorted(self.loops.take())
        t1 = time.time() - 1          # rows of the last second are still on their way
        fresh, missing = self.marked.since(t0, t1), self.marked.missing(t0, t1)
        size, runs, tis = airflow_history_size(self.settings.airflow_db_url)
        loop_text = (f"loop p50 {statistics.median(loop):.0f} ms, p95 {percentile(loop, 0.95):.0f} ms, "
                     f"max {loop[-1]:.0f} ms ({len(loop)} loops)") if loop else "no loops measured"
        print(f"  {name}:\n    metadata {size:.0f} MB, {runs:,} DAG runs, {tis:,} task instances; {loop_text}; "
              f"freshness p50 {percentile(fresh, 0.5) * 1000:.0f} ms, p99 {percentile(fresh, 0.99) * 1000:.0f} ms "
              f"({len(fresh)} rows; {missing} not arrived)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--measure-seconds", type=float, default=120)
    args = parser.parse_args()
    settings = load_settings()
    loops = LoopTimes()
    os.environ.update({"PISA_AIRFLOW_KEEP_HOURS": str(KEEP_HOURS), **loops.airflow_settings()})
    print(machine_line("A week of Airflow history"), flush=True)
    product = start_product(settings, sim_rate=settings.sim_rate)
    if product is None:
        print("  the product is already running: stop it first (this benchmark sets its own settings)")
        return 1
    marked = MarkedRows(settings)
    try:
        marked.start()
        stages = Stages(settings, loops, marked)
        # The maintenance DAG would clean the history before it is measured: this benchmark runs
        # its cleanup itself, at a known moment.
        airflow(settings, "dags", "pause", "pisa_maintenance")
        time.sleep(30)                                  # start-up's catch-up runs are over
        stages.measure("1. the history it has", args.measure_seconds)
        t0 = time.time()
        added = add_week(settings, args.days)
        print(f"  added {added:,} runs ({args.days:g} days) in {time.time() - t0:.0f} s", flush=True)
        stages.measure(f"2. with {args.days:g} days of history", args.measure_seconds)
        t0 = time.time()
        report = clean_airflow_history(settings.airflow_db_url, airflow_home(settings) / "logs", KEEP_HOURS)
        print(f"  cleanup took {time.time() - t0:.0f} s: {report.describe()}", flush=True)
        stages.report("   during the cleanup", t0)
        stages.measure("3. after the cleanup", args.measure_seconds)
    finally:
        marked.stopped.set()
        try:
            airflow(settings, "dags", "unpause", "pisa_maintenance")
        finally:
            stop_product(product)
    return 0


if __name__ == "__main__":
    sys.exit(main())
