"""Airflow's environment for `make run`, derived from our settings: `eval "$(python -m pisa.airflow_env)"`.

`--prepare` creates Airflow's metadata database and the admin passwords file (mode 0600: Airflow
would write it world-readable) and exits 3 when PostgreSQL's max_connections is too low for the
whole product (`pisa.local_server` raises it on this machine).

One place turns PISA_* settings into AIRFLOW__* configuration and AIRFLOW_CONN_* connections, so
the DAGs and the rest of the product always point at the same databases.
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from pisa import db
from pisa.config import Settings, load_settings
from pisa.local_server import NEEDED_CONNECTIONS, RESTART_NEEDED, max_connections

ROOT = Path(__file__).resolve().parent.parent


def airflow_home(settings: Settings) -> Path:
    """Per metadata database: two differently configured stacks never share a home."""
    return ROOT / ".airflow" / db.database_name(settings.airflow_db_url)


def passwords_file(settings: Settings) -> Path:
    """Where the simple auth manager keeps the generated `admin` password (plain text)."""
    return airflow_home(settings) / "simple_auth_manager_passwords.json.generated"


def local_host(listen_host: str) -> str:
    """How a process on this machine reaches a server listening on `listen_host`."""
    if listen_host in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        return "localhost"
    return f"[{listen_host}]" if ":" in listen_host else listen_host


# Loggers whose INFO lines repeat for every task, run or request (seen in task logs, scheduler
# and API server output); their warnings and errors still show.
QUIET_LOGGERS = (
    "task",                                     # ::group:: markers, XCom pushes
    "airflow.task.operators",                   # "Done. Returned value was: ..."
    "airflow.dag_processing",                   # bundle and DagBag loading in every task
    "airflow.sdk",                              # secrets backends, API client retries
    "airflow.models",                           # next run info, run state changes
    "airflow.serialization",                    # "creating dag run"
    "airflow.jobs.scheduler_job_runner",        # "1 tasks up for execution", "Setting ... to queued"
    "airflow.executors",                        # executor events
    "airflow.api_fastapi.execution_api",        # "Task instance state updated"
    "http.access",                              # one line per execution API request
    "supervisor",                               # "Workload finished", secrets backends
)
QUIET_NAMESPACE_LEVELS = " ".join(f"{name}=WARNING" for name in QUIET_LOGGERS)


def airflow_environment(settings: Settings) -> dict[str, str]:
    """AIRFLOW__* settings and AIRFLOW_CONN_* connections for this deployment."""
    port = settings.airflow_port
    host = local_host(settings.airflow_host)
    env = {
        # Per port too: two stacks never share a log-server port (8793/8794 for the default 8080).
        "AIRFLOW_HOME": str(airflow_home(settings)),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port + 713),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(port + 714),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        # The plugin registers the DAGs' timetable: without it the scheduler cannot load them.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Two runs of each source overlap at every handover: two executor slots per DAG, and room.
        "AIRFLOW__CORE__PARALLELISM": str(max(48, 3 * len(settings.sources))),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(settings.airflow_db_url),
        # Airflow's own default host is 0.0.0.0: the UI and API on every interface.
        "AIRFLOW__API__HOST": settings.airflow_host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{host}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{host}:{port}/execution/",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Quiet task logs and part outputs: Airflow's per-task and per-request lines, about 300
        # bytes each, a dozen per run at 63,000 runs a day, are cut to warnings; the sync's own
        # lines (a run's summary, notable batches, failures) stay at INFO.
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS": QUIET_NAMESPACE_LEVELS,
        # The one DAG file changes only with a deploy: re-parse it every 5 minutes, not every
        # 30 s (each parse of 40 DAGs is a CPU burst that delays every source's polls).
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW_CONN_PISA_CENTRAL": settings.central_url,
        # For the maintenance DAG's cleanup: task processes cannot use Airflow's own DB session.
        "AIRFLOW_CONN_PISA_AIRFLOW_DB": settings.airflow_db_url,
    }
    for source in settings.sources:
        env[f"AIRFLOW_CONN_PISA_SRC_{source}"] = settings.source_url(source)
    return env


def sqlalchemy_url(libpq: str) -> str:
    """The same database as a SQLAlchemy URL with the psycopg2 driver, from a libpq URL or
    key=value string (what an Airflow connection resolves to)."""
    from psycopg2.extensions import parse_dsn
    from sqlalchemy.engine import URL

    params = parse_dsn(libpq)
    url = URL.create("postgresql+psycopg2", username=params.pop("user", None), password=params.pop("password", None),
                     host=params.pop("host", None), port=int(params.pop("port")) if "port" in params else None,
                     database=params.pop("dbname", None), query=params)
    return url.render_as_string(hide_password=False)


def create_private_file(path: Path) -> None:
    """Create `path` (and its folder) readable by its owner only; an existing file is made so too.
    Airflow appends to the file it finds, keeping its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def main(argv: list[str]) -> int:
    settings = load_settings()
    if argv == ["--prepare"]:
        created = db.create_database(settings.airflow_db_url)
        print(f"Airflow metadata database {db.describe(settings.airflow_db_url)} "
              f"{'created' if created else 'exists'}", file=sys.stderr)
        create_private_file(Path(os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
                                 or passwords_file(settings)))
        if max_connections(settings.central_url) < NEEDED_CONNECTIONS:
            print(f"max_connections is below {NEEDED_CONNECTIONS}", file=sys.stderr)
            return RESTART_NEEDED
        return 0
    for name, value in airflow_environment(settings).items():
        if name not in os.environ:      # an explicit setting wins (docker-compose sets the execution API URL)
            print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
