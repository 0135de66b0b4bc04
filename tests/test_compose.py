"""docker-compose.yml: every part of the product is there, built from the project's image."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_runs_every_part_of_the_product():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "init", "simulator", "airflow-scheduler", "airflow-dag-processor",
                             "airflow-triggerer", "airflow-api-server", "dashboard"}
    assert services["dashboard"]["command"][:3] == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert "max_connections=300" in services["postgres"]["command"]
    for name in services.keys() - {"postgres"}:
        assert services[name]["build"] == "." and services[name]["environment"]["PISA_CENTRAL_URL"].startswith(
            "postgresql://postgres:${PISA_DB_PASSWORD"), name   # no password in the file
    assert (ROOT / "Dockerfile").read_text().count("constraints.txt") >= 2


def test_docker_compose_config_accepts_the_file():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose client is not installed on this machine: only the YAML was checked")
    done = subprocess.run([docker, "compose", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
