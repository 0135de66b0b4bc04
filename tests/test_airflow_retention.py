"""The maintenance DAG keeps Airflow's history to PISA_AIRFLOW_KEEP_HOURS: older runs, task
instances and task log files go through Airflow's own cleanup, a running run is never touched.

Runs for real: `airflow db migrate` into a PostgreSQL metadata database of the test's own, one
real run of `pisa_maintenance` (Airflow's `dag.test()`), two days of its history copied from that
run, then the DAG once more.
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.airflow_history import add_history
from pisa import db
from pisa.airflow_env import QUIET_NAMESPACE_LEVELS, sqlalchemy_url
from tests.conftest import SERVER_URL

ROOT = Path(__file__).resolve().parent.parent
RUN_MAINTENANCE = """
from airflow.dag_processing.dagbag import DagBag
run = DagBag(dag_folder={dags!r}).dags["pisa_maintenance"].test()
print("STATE", run.state)
"""


@pytest.fixture
def metadata(tmp_path, server_available):
    url = f"{SERVER_URL}/pisa_t{os.getpid()}_airflow"
    db.create_database(url, reset=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PISA_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(url),
        "AIRFLOW_CONN_PISA_AIRFLOW_DB": url, "PISA_AIRFLOW_KEEP_HOURS": "24",
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS": QUIET_NAMESPACE_LEVELS,
    })
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                             text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    yield url, env, tmp_path / "logs"
    db.drop_database(url)


def run_maintenance(env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", RUN_MAINTENANCE.format(dags=str(ROOT / "dags"))], env=env,
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "STATE success" in output, output[-3000:]
    return output


def count(url: str, query: str, *params) -> int:
    with closing(db.connect(url, application_name="pisa-test")) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def old_file(path: Path, age: timedelta) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x" * 1000)
    at = (datetime.now(timezone.utc) - age).timestamp()
    os.utime(path, (at, at))
    return path


def test_history_older_than_the_limit_goes_and_a_running_run_stays(metadata):
    url, env, logs = metadata
    first = run_maintenance(env)                  # a real run: the template, and nothing to remove yet
    assert "removed Airflow history from before" in first and "no rows; 0 task log files" in first
    now = datetime.now(timezone.utc)
    with closing(db.connect(url, application_name="pisa-test")) as conn:
        # Two days of runs every 10 minutes, ending 5 minutes ago, and one from 30 hours ago that
        # is still running (stuck, say).
        added = add_history(conn, "pisa_maintenance", now - timedelta(hours=48, minutes=-5), now - timedelta(minutes=5),
                            timedelta(minutes=10))
        stuck = now - timedelta(hours=30, minutes=1)
        add_history(conn, "pisa_maintenance", stuck, stuck, timedelta(minutes=10), state="running")
    assert added == 288
    day_ago = now - timedelta(hours=24)
    assert count(url, "SELECT count(*) FROM dag_run WHERE state = 'success' AND start_date < %s", day_ago) == 144
    logs_31h = old_file(logs / "dag_id=pisa_sync_alb" / "run_id=a" / "task_id=stream" / "attempt=1.log",
                        timedelta(hours=31))
    logs_25h = old_file(logs / "dag_id=pisa_sync_alb" / "run_id=b" / "task_id=stream" / "attempt=1.log",
                        timedelta(hours=25))
    logs_23h = old_file(logs / "dag_id=pisa_sync_alb" / "run_id=c" / "task_id=stream" / "attempt=1.log",
                        timedelta(hours=23))
    part_output = old_file(logs / "scheduler.out", timedelta(hours=31))     # rotated by the supervisor

    # The stuck run holds the cutoff at its start: what is older goes, the rest waits.
    output = run_maintenance(env)
    assert "has not finished" in output and "108 dag_run" in output, output[-3000:]
    assert count(url, "SELECT count(*) FROM dag_run WHERE state = 'success' AND start_date < %s", day_ago) == 36
    assert count(url, "SELECT count(*) FROM dag_run WHERE state = 'running' AND start_date < %s", day_ago) == 1
    assert count(url, "SELECT count(*) FROM task_instance WHERE state = 'running' AND start_date < %s", day_ago) == 1
    assert not logs_31h.exists() and not logs_31h.parent.exists()
    assert logs_25h.exists() and logs_23h.exists() and part_output.exists()

    with closing(db.connect(url, application_name="pisa-test", autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute("UPDATE dag_run SET state = 'failed', end_date = now() WHERE state = 'running'")
        cur.execute("UPDATE task_instance SET state = 'failed', end_date = now() WHERE state = 'running'")
    output = run_maintenance(env)
    assert "37 dag_run" in output and "has not finished" not in output, output[-3000:]
    assert count(url, "SELECT count(*) FROM dag_run WHERE start_date < %s", day_ago) == 0
    assert count(url, "SELECT count(*) FROM task_instance WHERE start_date < %s", day_ago) == 0
    assert not logs_25h.exists() and logs_23h.exists() and part_output.exists()
    # The last day's history stays: 144 copied runs and the three real ones, with their tasks.
    assert count(url, "SELECT count(*) FROM dag_run") == 147
    assert count(url, "SELECT count(*) FROM task_instance") == 147
