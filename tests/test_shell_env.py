"""`python -m pisa.shell_env`: the shell sees every PISA_* setting as the Python side resolves it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pisa.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def shell_env(tmp_path, **settings: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PISA_")}
    env.update(settings)
    return subprocess.run([sys.executable, "-m", "pisa.shell_env"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def exported(done: subprocess.CompletedProcess) -> dict[str, str]:
    """Run the printed lines in bash and read the variables back."""
    script = done.stdout + "".join(f'printf "%s=%s\\n" {s.name} "${s.name}"\n' for s in SETTINGS)
    lines = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in lines.splitlines())


@pytest.mark.skipif((ROOT / ".env").exists(), reason="the project's .env changes the defaults")
def test_defaults_reach_the_shell(tmp_path):
    done = shell_env(tmp_path)
    assert done.returncode == 0, done.stderr
    values = exported(done)
    assert (values["PISA_SIM_RATE"], values["PISA_PORT"], values["PISA_RUN_SYNC"]) == ("20", "8000", "airflow")
    assert values["PISA_SOURCE_URL_TEMPLATE"] == "postgresql://postgres@127.0.0.1:5432/pisa_src_{cnt}"
    assert sorted(values) == sorted(s.name for s in SETTINGS)


def test_the_shell_gets_the_effective_value(tmp_path):
    done = shell_env(tmp_path, PISA_SIM_RATE="0.0", PISA_SOURCES=" alb,arg,alb", PISA_RUN_SYNC="cli")
    values = exported(done)
    assert (values["PISA_SIM_RATE"], values["PISA_SOURCES"], values["PISA_RUN_SYNC"]) == ("0", "ALB,ARG", "cli")


def test_a_malformed_setting_stops_with_its_name(tmp_path):
    done = shell_env(tmp_path, PISA_PORT="eighty")
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "configuration error: PISA_PORT: 'eighty' is not a valid int\n")
