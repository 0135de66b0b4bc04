"""Airflow's history kept to PISA_AIRFLOW_KEEP_HOURS: metadata rows and task log files.

The `pisa_maintenance` DAG runs this every 10 minutes (by hand: `python -m pisa.airflow_retention`).
Twenty sources make about 63,000 DAG runs a day; kept forever, their rows slow the scheduler's
loop and their logs fill the disk. Rows go through Airflow's own cleanup, `airflow db clean`, run
as a command: a task process has no access to the metadata database (Airflow 3 blocks it), so
the command gets the database from the `pisa_airflow_db` connection. Task log files older than
the cutoff are deleted by age, with the folders they leave empty.

The cutoff is `now - keep_hours`, never later than the start of the oldest run that has not
finished: a running run, its task instances and its log are never touched. (Airflow's own
`--exclude-dag-ids` would hold back only that run's DAG, but in Airflow 3.3 it fails on the
`deadline` and `task_reschedule` tables.) A run held over the cutoff is named in the log: one
still running after a day is stuck, and ops should mark it failed.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from psycopg2 import sql

from pisa import db

log = logging.getLogger(__name__)

# The tables cleaned, and the column `airflow db clean` ages each by (airflow.utils.db_cleanup).
# Not `dag`, `dag_version` or `import_error`: those describe the deployed DAGs, not their history.
CLEANED_TABLES = {
    "dag_run": "start_date",           # also removes its task instances (foreign key cascade)
    "task_instance": "start_date",
    "task_instance_history": "start_date",
    "task_reschedule": "start_date",
    "xcom": "timestamp",
    "log": "dttm",                      # the audit log of UI and API actions
    "job": "latest_heartbeat",
}
# Rows per delete transaction: short transactions, so the scheduler and the streaming runs'
# state updates never queue long behind a cleanup.
DELETE_BATCH_ROWS = 5000
CLEAN_TIMEOUT_S = 30 * 60
# Task log folders Airflow writes: one per DAG (runs, tasks, attempts below) and the DAG
# processor's per-day parse logs. The parts' own `.out` files are rotated by the supervisor.
TASK_LOG_GLOBS = ("dag_id=*", "dag_processor")


@dataclass
class RetentionReport:
    """What one cleanup removed."""

    cutoff: datetime
    held_back_by: str = ""           # the unfinished run that moved the cutoff earlier, if one did
    rows_removed: dict[str, int] = field(default_factory=dict)
    log_files_removed: int = 0
    log_bytes_removed: int = 0

    def describe(self) -> str:
        rows = ", ".join(f"{count:,} {table}" for table, count in self.rows_removed.items() if count) or "no rows"
        text = (f"removed Airflow history from before {self.cutoff:%Y-%m-%d %H:%M:%S} UTC: {rows}; "
                f"{self.log_files_removed} task log files ({self.log_bytes_removed / 1e6:.1f} MB)")
        if self.held_back_by:
            text += f"; kept everything since then: {self.held_back_by} has not finished"
        return text


def cutoff(conn, now: datetime, keep_hours: float) -> tuple[datetime, str]:
    """Remove history from before this instant (see the module docstring); with the run that held
    it back, if one did."""
    keep_from = now - timedelta(hours=keep_hours)
    with conn.cursor() as cur:
        cur.execute(db.load_sql("airflow/oldest_unfinished_run.sql"))
        oldest = cur.fetchone()
    if oldest is None or oldest[2] >= keep_from:
        return keep_from, ""
    dag_id, run_id, started = oldest
    return started, f"run {run_id} of {dag_id}, started {started:%Y-%m-%d %H:%M:%S} UTC,"


def rows_older_than(conn, before: datetime) -> dict[str, int]:
    """Per cleaned table, its rows from before `before` (what a cleanup left, before and after)."""
    counts = {}
    with conn.cursor() as cur:
        for table, column in CLEANED_TABLES.items():
            cur.execute(sql.SQL(db.load_sql("airflow/rows_older_than.sql")).format(
                table=sql.Identifier(table), recency_column=sql.Identifier(column)), {"cutoff": before})
            counts[table] = cur.fetchone()[0]
    return counts


def airflow_db_clean(metadata_url: str, before: datetime) -> None:
    """`airflow db clean` of CLEANED_TABLES, without archive tables (they would keep the rows)."""
    from pisa.airflow_env import sqlalchemy_url

    env = {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(metadata_url)}
    env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
    command = [sys.executable, "-m", "airflow", "db", "clean", "--clean-before-timestamp", before.isoformat(),
               "--tables", ",".join(CLEANED_TABLES), "--skip-archive", "--yes", "--error-on-cleanup-failure",
               "--batch-size", str(DELETE_BATCH_ROWS)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CLEAN_TIMEOUT_S)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"airflow db clean failed (exit status {done.returncode}):\n{tail}")


def remove_old_task_logs(log_folder: Path, before: datetime) -> tuple[int, int]:
    """Delete task log files last written before `before`, then the folders left empty.
    Returns (files, bytes) removed."""
    limit = before.timestamp()
    files = size = 0
    for top in (path for pattern in TASK_LOG_GLOBS for path in log_folder.glob(pattern)):
        for folder, _, names in os.walk(top, topdown=False):
            for name in names:
                path = Path(folder, name)
                try:
                    stat = path.stat()
                    if stat.st_mtime < limit:
                        path.unlink()
                        files, size = files + 1, size + stat.st_size
                except FileNotFoundError:      # removed meanwhile (a concurrent cleanup)
                    continue
            if Path(folder) != top:
                try:
                    os.rmdir(folder)            # only succeeds when empty
                except OSError:
                    pass
    return files, size


def clean_airflow_history(metadata_url: str, log_folder: Path, keep_hours: float,
                          now: datetime | None = None) -> RetentionReport:
    """Remove Airflow's metadata rows and task log files older than `keep_hours`."""
    now = now or datetime.now(timezone.utc)
    with closing(db.connect(metadata_url, application_name="pisa-airflow-retention", autocommit=True)) as conn:
        report = RetentionReport(*cutoff(conn, now, keep_hours))
        before = rows_older_than(conn, report.cutoff)
        airflow_db_clean(metadata_url, report.cutoff)
        after = rows_older_than(conn, report.cutoff)
    report.rows_removed = {table: before[table] - after[table] for table in CLEANED_TABLES}
    removed = remove_old_task_logs(log_folder, report.cutoff)
    report.log_files_removed, report.log_bytes_removed = removed
    return report


def main(argv: list[str] | None = None) -> int:
    from pisa.airflow_env import airflow_home
    from pisa.config import load_settings

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m pisa.airflow_retention", description=__doc__.splitlines()[0])
    parser.add_argument("--keep-hours", type=float, default=settings.airflow_keep_hours)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = clean_airflow_history(settings.airflow_db_url, airflow_home(settings) / "logs", args.keep_hours)
    log.info("%s", report.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
