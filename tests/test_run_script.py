"""`make run` (scripts/run.sh): a stop is complete whatever signals arrive meanwhile, a part killed
is restarted while the others keep running, and a start on a port still held says which port and
what holds it.

The script runs for real, in a session of its own as `make run` under a process manager would,
with the CLI follower, one small source and free ports; every process it started is killed at the
end whatever happens.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from pisa import db
from pisa.airflow_env import airflow_home
from pisa.ports import ports_in_use
from pisa.sources.writer import Simulator
from tests.ground_truth import assert_exact
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "pisa").exists(), reason="scripts/run.sh needs .venv (make install)"),
    pytest.mark.skipif((ROOT / ".env").exists(), reason="the project's .env would override the test's settings"),
]


def listener(port: int) -> socket.socket:
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", port))
    held.listen()
    return held


def test_a_port_in_use_is_named_with_its_holder():
    port = free_port()
    with closing(listener(port)):
        problems = ports_in_use({"PISA_PORT": port})
    assert len(problems) == 1 and problems[0].startswith(f"port {port} (PISA_PORT) is in use, held by pid {os.getpid()}: ")
    assert ports_in_use({"PISA_PORT": port}) == []


class RunScript:
    """scripts/run.sh in its own session; its output collected line by line."""

    def __init__(self, env, **settings: str):
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("PISA_", "AIRFLOW"))}
        environment.update({
            "PYTHONPATH": str(ROOT),
            "PISA_CENTRAL_URL": env.settings.central_url,
            "PISA_SOURCE_URL_TEMPLATE": env.settings.source_url_template,
            "PISA_SOURCES": ",".join(env.settings.sources),
            "PISA_API_ROLE": env.settings.api_role,
            "PISA_RUN_SYNC": "cli",
            "PISA_SIM_RATE": "5",
            "PISA_PORT": str(free_port()),
            **settings,
        })
        self.port = int(environment["PISA_PORT"])
        self.process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output:
            assert self.process.poll() is None or text in self.output, f"run.sh ended:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout_s} s:\n{self.output}"
            time.sleep(0.05)

    def wait_until_serving(self, timeout_s: float) -> None:
        """Until the API answers: the parts are up and running, their signal handlers set."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            assert self.process.poll() is None, f"run.sh ended:\n{self.output}"
            assert time.monotonic() < deadline, f"the API did not answer within {timeout_s} s:\n{self.output}"
            time.sleep(0.2)

    def part_sessions(self) -> list[int]:
        """The parts: each a session of its own, led by a child of the script."""
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in found.split() if int(pid) == os.getsid(int(pid))] if found else []

    def signal_group(self, signum: int) -> None:
        """What `kill -TERM -- -<pgid>` does: the script and whatever runs in its process group."""
        os.killpg(self.process.pid, signum)


def alive_in(sessions: list[int]) -> list[str]:
    """Every process still running in any of these sessions."""
    alive = []
    for session in sessions:
        found = subprocess.run(["pgrep", "-a", "-s", str(session)], capture_output=True, text=True).stdout
        alive += found.splitlines()
    return alive


def kill_everything(run: RunScript, sessions: list[int]) -> None:
    for session in sessions + run.part_sessions():
        subprocess.run(["pkill", "-KILL", "-s", str(session)])
    try:
        run.signal_group(signal.SIGKILL)
    except ProcessLookupError:
        pass
    run.process.wait(timeout=10)


def test_a_stop_signalled_twice_as_make_does_still_stops_every_part(make_env):
    env = make_env(sources=("ALB",), rows=50)
    run = RunScript(env)
    sessions: list[int] = []
    try:
        run.wait_for("Running (Ctrl-C stops everything)", timeout_s=60)
        run.wait_until_serving(timeout_s=30)
        sessions = run.part_sessions()
        assert len(sessions) == 3, run.output        # simulator, follower, gunicorn
        run.signal_group(signal.SIGTERM)
        run.wait_for("Stopping: 3 parts", timeout_s=10)
        run.signal_group(signal.SIGTERM)             # GNU make forwards the second one to its child
        assert run.process.wait(timeout=40) == 143, run.output
        run.reader.join(timeout=5)
        assert run.output.rstrip().endswith("Stopped."), run.output
        assert alive_in(sessions) == []
    finally:
        kill_everything(run, sessions)


def test_a_start_on_a_port_in_use_says_which_and_what_holds_it_before_starting_anything(make_env):
    env = make_env(sources=("ALB",), rows=10)
    port = free_port()
    with closing(listener(port)):
        run = RunScript(env, PISA_PORT=str(port))
        try:
            assert run.process.wait(timeout=60) == 1
            run.reader.join(timeout=5)
        finally:
            kill_everything(run, [])
    assert f"Cannot start: port {port} (PISA_PORT) is in use, held by pid {os.getpid()}: " in run.output
    assert "Running" not in run.output and "Stopping" not in run.output


def session_running(run: RunScript, *command_parts: str) -> int:
    """The session of the part whose command line contains one of `command_parts`."""
    for session in run.part_sessions():
        found = subprocess.run(["pgrep", "-a", "-s", str(session)], capture_output=True, text=True).stdout
        if any(part in found for part in command_parts):
            return session
    raise AssertionError(f"no part runs {command_parts}:\n{run.output}")


def healthz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return response.status


def test_each_part_killed_is_restarted_the_dashboard_answers_and_nothing_is_lost(make_env):
    env = make_env(sources=("ALB",), rows=50)
    run = RunScript(env, PISA_SIM_RATE="0")
    sessions: list[int] = []
    try:
        run.wait_for("Running (Ctrl-C stops everything)", timeout_s=60)
        run.wait_until_serving(timeout_s=30)
        sessions = run.part_sessions()
        os.kill(session_running(run, "pisa sync"), signal.SIGKILL)
        run.wait_for("sync exited unasked (killed by SIGKILL)", timeout_s=5)
        assert healthz(run.port) == 200                  # the dashboard keeps answering meanwhile
        Simulator(env.settings, rate=0, update_share=0.3, delete_share=0.1, bad_share=0.1, seed=4).write_rows(40)
        run.wait_for("sync restarted", timeout_s=5)
        eventually(lambda: assert_exact(env), timeout_s=20)     # what was written meanwhile arrives

        os.kill(session_running(run, "gunicorn"), signal.SIGKILL)
        run.wait_for("dashboard exited unasked (killed by SIGKILL)", timeout_s=5)
        run.wait_for("dashboard restarted", timeout_s=5)
        run.wait_until_serving(timeout_s=30)
        assert "Stopping" not in run.output
        sessions = run.part_sessions()
        assert len(sessions) == 2, run.output             # the follower and the dashboard, nothing left over
    finally:
        kill_everything(run, sessions)


def eventually(check, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def airflow_port() -> int:
    """A free port whose log-server neighbours (+713, +714: pisa/airflow_env.py) are free too."""
    while True:
        port = free_port()
        if port + 714 < 65536 and not ports_in_use({"a": port + 713, "b": port + 714}):
            return port


def test_under_airflow_each_part_killed_is_restarted_and_the_sync_resumes(make_env):
    env = make_env(sources=("ALB",), rows=50)
    metadata_url = env.settings.central_url.replace("_central", "_airflow")
    home = airflow_home(env.settings.replace(airflow_db_url=metadata_url))
    run = RunScript(env, PISA_SIM_RATE="0", PISA_RUN_SYNC="airflow", PISA_AIRFLOW_DB_URL=metadata_url,
                    PISA_AIRFLOW_PORT=str(airflow_port()))
    writes = Simulator(env.settings, rate=0, update_share=0.3, delete_share=0.1, bad_share=0.1, seed=5)
    sessions: list[int] = []
    try:
        run.wait_for("Running (Ctrl-C stops everything)", timeout_s=180)
        run.wait_until_serving(timeout_s=60)
        writes.write_rows(20)
        eventually(lambda: assert_exact(env), timeout_s=120)       # a DAG run streams the source
        for part in ("scheduler", "dag-processor", "triggerer", "api-server"):
            # The API server renames its process `airflow api_server`.
            os.kill(session_running(run, f"airflow {part}", f"airflow {part.replace('-', '_')}"), signal.SIGKILL)
            run.wait_for(f"airflow {part} exited unasked (killed by SIGKILL)", timeout_s=5)
            assert healthz(run.port) == 200
            run.wait_for(f"airflow {part} restarted", timeout_s=5)
        writes.write_rows(20)
        eventually(lambda: assert_exact(env), timeout_s=180)       # the restarted scheduler's runs
        assert "Stopping" not in run.output
        sessions = run.part_sessions()
        assert len(sessions) == 5, run.output        # four Airflow parts and the dashboard
    finally:
        kill_everything(run, sessions)
        db.drop_database(metadata_url)
        shutil.rmtree(home, ignore_errors=True)
