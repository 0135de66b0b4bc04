"""The DAGs: they import cleanly, there are twenty of each, and one run syncs exactly.

Airflow reads its configuration at import, so each check runs in a child process with its own
AIRFLOW_HOME and a throwaway SQLite metadata database.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pisa.config import COUNTRIES
from pisa.sources.writer import Simulator
from tests.ground_truth import assert_exact

DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture
def airflow_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PISA_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
    })
    return env


def run_python(code: str, env: dict, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)


DESCRIBE_DAGS = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={folder!r})
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": {{
    dag_id: {{"schedule": repr(dag.timetable), "tags": sorted(dag.tags), "max_active_runs": dag.max_active_runs,
             "retries": dag.default_args["retries"], "start": dag.start_date.isoformat(),
             "tasks": [t.task_id for t in dag.tasks]}}
    for dag_id, dag in bag.dags.items()}}}}))
"""


def test_twenty_sync_and_twenty_reconcile_dags_import_without_errors(airflow_env):
    done = run_python(DESCRIBE_DAGS.format(folder=str(DAGS)), airflow_env)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    dags = found["dags"]
    assert sorted(dags) == sorted([f"pisa_sync_{c.lower()}" for c in COUNTRIES] +
                                  [f"pisa_reconcile_{c.lower()}" for c in COUNTRIES])
    alb = dags["pisa_sync_alb"]
    assert (alb["tags"], alb["max_active_runs"], alb["tasks"], alb["retries"]) == (["ALB", "pisa", "sync"], 2, ["stream"], 5)
    assert "delta=datetime.timedelta(seconds=30)" in alb["schedule"]
    assert "delta=datetime.timedelta(seconds=300)" in dags["pisa_reconcile_alb"]["schedule"]
    assert dags["pisa_reconcile_alb"]["tasks"] == ["reconcile"] and dags["pisa_reconcile_alb"]["max_active_runs"] == 1
    assert len({d["start"] for d in dags.values() if d["tasks"] == ["stream"]}) == 20   # staggered


def test_one_dag_run_syncs_its_source_exactly(make_env, airflow_env):
    env = make_env(sources=("ALB",), rows=150)
    Simulator(env.settings, rate=0, update_share=0.3, delete_share=0, bad_share=0.2, seed=8).write_rows(120)
    airflow_env.update({
        "PISA_SOURCES": "ALB",
        "PISA_API_ROLE": env.settings.api_role,
        "AIRFLOW_CONN_PISA_CENTRAL": env.settings.central_url,
        "AIRFLOW_CONN_PISA_SRC_ALB": env.settings.source_url("ALB"),
    })
    migrate = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=airflow_env,
                             capture_output=True, text=True, timeout=180)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    done = run_python(f"""
from airflow.dag_processing.dagbag import DagBag
run = DagBag(dag_folder={str(DAGS)!r}).dags["pisa_sync_alb"].test(run_conf={{"stream_seconds": 1.5}})
print("STATE", run.state)
""", airflow_env)
    output = done.stdout + done.stderr
    assert "STATE success" in output, output[-3000:]
    assert "ALB: took the sync lease" in output and "ended: reached its 2 s limit" in output
    assert_exact(env)              # the run alone brought every row, update and malformed value


def test_runs_in_step_are_told_from_runs_spread_over_the_period():
    from datetime import datetime, timedelta, timezone

    from pisa.airflow_stagger import in_step
    base = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    assert in_step([base + timedelta(milliseconds=15 * i) for i in range(20)])
    assert not in_step([base + timedelta(seconds=1.5 * i) for i in range(20)])
    assert not in_step([base + timedelta(seconds=1.5 * i + 30 * (i % 3)) for i in range(20)])   # whole periods apart
