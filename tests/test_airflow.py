"""The DAGs and their timetable: forty DAGs import cleanly, each runs at its own phase, one run
syncs exactly.

Airflow reads its configuration at import. The DAG checks run in a child process with its own
AIRFLOW_HOME and a throwaway SQLite metadata database; the timetable's own tests import it here,
with AIRFLOW_HOME pointed at a temporary folder first.
"""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import pytest

from pisa import schedule
from pisa.airflow_env import airflow_environment, create_private_file, passwords_file
from pisa.config import COUNTRIES, load_settings
from pisa.sources.writer import Simulator
from tests.ground_truth import assert_exact

DAGS = Path(__file__).resolve().parent.parent / "dags"
PLUGINS = airflow_environment(load_settings({}))["AIRFLOW__CORE__PLUGINS_FOLDER"]
AT = datetime(2026, 11, 26, 1, 0, 7, tzinfo=timezone.utc)      # 7 s past a whole 30 s of the clock
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def timetables(tmp_path_factory):
    """pisa.airflow_timetable, imported with Airflow's home in a temporary folder."""
    home = tmp_path_factory.mktemp("airflow_home")
    with mock.patch.dict(os.environ, {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}):
        return importlib.import_module("pisa.airflow_timetable")


@pytest.fixture
def every_30s_at_1_5(timetables):
    return timetables.PhasedTimetable(30 * SECOND, 1.5 * SECOND)


def test_the_next_run_falls_at_the_phase(every_30s_at_1_5):
    assert every_30s_at_1_5.next_run_at(None, AT) == datetime(2026, 11, 26, 1, 0, 31, 500000, tzinfo=timezone.utc)
    on_a_tick = datetime(2026, 11, 26, 1, 0, 1, 500000, tzinfo=timezone.utc)
    assert every_30s_at_1_5.tick_at_or_after(on_a_tick) == on_a_tick
    assert every_30s_at_1_5.next_run_at(on_a_tick, on_a_tick + 0.3 * SECOND) == on_a_tick + 30 * SECOND


def test_a_run_after_a_gap_skips_to_the_next_tick_never_catches_up(every_30s_at_1_5):
    last_run = datetime(2026, 11, 26, 1, 0, 1, 500000, tzinfo=timezone.utc)
    now = last_run + timedelta(minutes=7, seconds=10)     # the scheduler was down for 14 ticks
    assert every_30s_at_1_5.next_run_at(last_run, now) == datetime(2026, 11, 26, 1, 7, 31, 500000, tzinfo=timezone.utc)
    # With catch-up (backfills, the calendar's planned runs) the next tick after the last follows.
    assert every_30s_at_1_5.next_run_at(last_run, now, catchup=True) == last_run + 30 * SECOND


def test_the_scheduler_is_given_the_next_tick_ahead_of_now(timetables, every_30s_at_1_5):
    base = importlib.import_module("airflow.timetables.base")
    no_catchup = base.TimeRestriction(earliest=datetime(2026, 1, 1, tzinfo=timezone.utc), latest=None, catchup=False)
    before = datetime.now(timezone.utc)
    long_ago = base.DataInterval.exact(every_30s_at_1_5.tick_at_or_after(before - timedelta(hours=1)))
    for last in (None, long_ago):
        info = every_30s_at_1_5.next_dagrun_info(last_automated_data_interval=last, restriction=no_catchup)
        assert before <= info.run_after <= before + 30 * SECOND + SECOND
        assert timetables.since_epoch(info.run_after) % (30 * SECOND) == 1.5 * SECOND
        assert info.data_interval == base.DataInterval(info.run_after, info.run_after)
    ended = no_catchup._replace(latest=before)
    assert every_30s_at_1_5.next_dagrun_info(last_automated_data_interval=None, restriction=ended) is None


def test_twenty_sources_sync_1_5_s_apart_and_reconcile_half_way_between():
    sync = [schedule.phase("sync", source, COUNTRIES) for source in COUNTRIES]
    assert sync == [i * 1.5 * SECOND for i in range(20)]
    assert schedule.phase("sync", "ARG", COUNTRIES) - schedule.phase("sync", "ALB", COUNTRIES) == 30 * SECOND / 20
    reconcile = [schedule.phase("reconcile", source, COUNTRIES) for source in COUNTRIES]
    assert reconcile == [(i * 15 + 0.75) * SECOND for i in range(20)]
    # Within any 30 s, every reconcile tick lies 0.75 s after a sync tick: half-way to the next.
    assert {(phase % (30 * SECOND)) % (1.5 * SECOND) for phase in reconcile} == {0.75 * SECOND}
    assert (schedule.period("sync"), schedule.period("reconcile")) == (30 * SECOND, 300 * SECOND)


def test_dag_ids_name_the_kind_and_the_source():
    assert (schedule.dag_id("sync", "ALB"), schedule.dag_id("reconcile", "ESP")) == ("pisa_sync_alb", "pisa_reconcile_esp")
    with pytest.raises(ValueError):
        schedule.dag_id("backup", "ALB")


def test_the_timetable_survives_serialization_and_describes_itself(timetables):
    reconcile_arg = timetables.PhasedTimetable.for_dag("reconcile", "ARG", COUNTRIES)
    assert reconcile_arg.serialize() == {"period_seconds": 300.0, "phase_seconds": 15.75}
    assert timetables.PhasedTimetable.deserialize(reconcile_arg.serialize()) == reconcile_arg
    odd = timetables.PhasedTimetable(30 * SECOND, 30 * SECOND / 7)           # 4.285714 s
    assert timetables.PhasedTimetable.deserialize(json.loads(json.dumps(odd.serialize()))) == odd
    assert reconcile_arg.summary == "every 5 min at +15.75 s"
    assert reconcile_arg.description == "every 5 min, 15.75 s after each multiple of 5 min since 1970-01-01 00:00 UTC"
    manual = reconcile_arg.infer_manual_data_interval(run_after=AT)
    assert (manual.start, manual.end) == (AT, AT)


def test_a_phase_outside_the_period_is_rejected(timetables):
    from airflow.exceptions import AirflowTimetableInvalid

    with pytest.raises(AirflowTimetableInvalid):
        timetables.PhasedTimetable(30 * SECOND, 30 * SECOND).validate()
    with pytest.raises(AirflowTimetableInvalid):
        timetables.PhasedTimetable(timedelta(), timedelta()).validate()


@pytest.fixture
def airflow_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PISA_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": PLUGINS,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
    })
    return env


def run_python(code: str, env: dict, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)


# What the scheduler sees: each DAG serialized and deserialized by Airflow, which finds the
# timetable class only through the plugin.
DESCRIBE_DAGS = """
import json
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
bag = DagBag(dag_folder={folder!r})
scheduled = {{dag_id: DagSerialization.from_dict(DagSerialization.to_dict(dag)) for dag_id, dag in bag.dags.items()}}
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": {{
    dag_id: {{"timetable": scheduled[dag_id].timetable.type_name, "summary": scheduled[dag_id].timetable.summary,
             "serialized": scheduled[dag_id].timetable.serialize(), "start": dag.start_date.isoformat(),
             "tags": sorted(dag.tags), "max_active_runs": dag.max_active_runs,
             "retries": dag.default_args["retries"], "tasks": [t.task_id for t in dag.tasks]}}
    for dag_id, dag in bag.dags.items()}}}}))
"""


def expected_dag(kind: str, source: str, index: int) -> dict:
    period, phase = (30.0, 1.5 * index) if kind == "sync" else (300.0, 15 * index + 0.75)
    described = "30 s" if kind == "sync" else "5 min"
    return {"timetable": "pisa.airflow_timetable.PhasedTimetable", "summary": f"every {described} at +{phase:g} s",
            "serialized": {"period_seconds": period, "phase_seconds": phase}, "start": "2026-01-01T00:00:00+00:00",
            "tags": sorted(["pisa", kind, source]), "max_active_runs": 2 if kind == "sync" else 1, "retries": 5,
            "tasks": ["stream"] if kind == "sync" else ["reconcile"]}


def test_forty_sync_dags_and_the_maintenance_dag_import_without_errors_each_at_its_own_phase(airflow_env):
    done = run_python(DESCRIBE_DAGS.format(folder=str(DAGS)), airflow_env)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    maintenance = found["dags"].pop("pisa_maintenance")
    assert found["dags"] == {schedule.dag_id(kind, source): expected_dag(kind, source, index)
                             for index, source in enumerate(COUNTRIES) for kind in ("sync", "reconcile")}
    assert (maintenance["summary"], maintenance["max_active_runs"], maintenance["tasks"]) == (
        "0:10:00", 1, ["clean_airflow_history"])


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
run = DagBag(dag_folder={str(DAGS)!r}).dags[{schedule.dag_id("sync", "ALB")!r}].test(run_conf={{"stream_seconds": 1.5}})
print("STATE", run.state)
""", airflow_env)
    output = done.stdout + done.stderr
    assert "STATE success" in output, output[-3000:]
    assert "ALB: held the lease" in output and "ended: reached its 2 s limit" in output
    assert_exact(env)              # the run alone brought every row, update and malformed value



def test_the_api_server_listens_on_this_machine_only_unless_told_otherwise():
    default = airflow_environment(load_settings({}))
    assert (default["AIRFLOW__API__HOST"], default["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]) == (
        "127.0.0.1", "http://localhost:8080/execution/")
    everywhere = airflow_environment(load_settings({"PISA_AIRFLOW_HOST": "0.0.0.0"}))
    assert (everywhere["AIRFLOW__API__HOST"], everywhere["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]) == (
        "0.0.0.0", "http://localhost:8080/execution/")
    one_address = airflow_environment(load_settings({"PISA_AIRFLOW_HOST": "10.1.2.3"}))
    assert one_address["AIRFLOW__API__BASE_URL"] == "http://10.1.2.3:8080"


# Airflow itself resolves our variables: its API server's host and the file its simple auth
# manager writes the generated admin password to (which then must stay readable by its owner only).
AIRFLOW_READS = """
import json, os, stat
from airflow.configuration import conf
from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
SimpleAuthManager().init()
path = SimpleAuthManager.get_generated_password_file()
print(json.dumps({"host": conf.get("api", "host"), "passwords_file": path,
                  "mode": oct(stat.S_IMODE(os.stat(path).st_mode)), "users": sorted(json.load(open(path)))}))
"""


def test_airflow_listens_where_we_say_and_its_password_file_is_private(airflow_env, tmp_path):
    settings = load_settings({"PISA_AIRFLOW_DB_URL": "postgresql://postgres@127.0.0.1:5432/pisa_t_unused"})
    ours = airflow_environment(settings)
    passwords = tmp_path / "home" / "passwords.json.generated"
    airflow_env.update({name: ours[name] for name in ("AIRFLOW__API__HOST", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS")})
    airflow_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
    create_private_file(passwords)                      # what `--prepare` does before Airflow starts
    done = run_python(AIRFLOW_READS, airflow_env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "host": "127.0.0.1", "passwords_file": str(passwords), "mode": "0o600", "users": ["admin"]}
    assert ours["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(passwords_file(settings))
    assert passwords_file(settings).parent == Path(ours["AIRFLOW_HOME"])


def test_an_existing_world_readable_password_file_is_made_private(tmp_path):
    path = tmp_path / "passwords.json.generated"
    path.write_text('{"admin": "secret"}\n')
    path.chmod(0o644)
    create_private_file(path)
    assert (path.stat().st_mode & 0o777, path.read_text()) == (0o600, '{"admin": "secret"}\n')
