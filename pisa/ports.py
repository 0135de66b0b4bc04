"""Before `make run` starts anything: is every port it will listen on free? `python -m pisa.ports`

Exits 0 when they all are. Otherwise it prints a line per port in use, with the setting that
chose it and the process listening on it when the OS tells us (`ss -ltnp`: root sees every
process, a user its own), and exits 1. Without it a part failed to bind after the others had
started, and the console said only that "a part of the product exited".
"""
from __future__ import annotations

import errno
import re
import socket
import subprocess
import sys
from pathlib import Path

from pisa.airflow_env import airflow_environment
from pisa.config import ConfigError, Settings, load_settings


def ports_to_check(settings: Settings) -> dict[str, int]:
    """Each port `make run` will listen on, by the setting that chooses it."""
    ports = {"PISA_PORT": settings.port}
    if settings.run_sync == "airflow":
        airflow = airflow_environment(settings)
        ports["PISA_AIRFLOW_PORT"] = settings.airflow_port
        ports["Airflow's task log server (PISA_AIRFLOW_PORT + 713)"] = int(
            airflow["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"])
        ports["Airflow's triggerer log server (PISA_AIRFLOW_PORT + 714)"] = int(
            airflow["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"])
    return ports


def port_in_use(port: int) -> bool:
    """True when a TCP listener on any address keeps us from binding `port` on every address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)    # as the servers do: TIME_WAIT is no conflict
        try:
            probe.bind(("", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


LISTENER = re.compile(r'\("([^"]*)",pid=(\d+),')


def port_holder(port: int) -> str | None:
    """The process listening on `port`, as 'pid 123: its command line', or None when unknown."""
    try:
        listing = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                                 timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    listeners = sorted((int(pid), name) for name, pid in LISTENER.findall(listing))
    if not listeners:
        return None
    pid, name = listeners[0]        # the oldest: gunicorn's master rather than one of its workers
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    return f"pid {pid}: {command[:200] or name}"


def ports_in_use(ports: dict[str, int]) -> list[str]:
    """A line for each port in use, naming its setting and its holder."""
    problems = []
    for setting, port in ports.items():
        if port_in_use(port):
            holder = port_holder(port)
            problems.append(f"port {port} ({setting}) is in use" +
                            (f", held by {holder}" if holder else " (the OS does not say by what)"))
    return problems


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    problems = ports_in_use(ports_to_check(settings))
    for problem in problems:
        print(f"Cannot start: {problem}", file=sys.stderr)
    if problems:
        print("Stop what holds it (a product left running by an earlier `make run`?), or choose another "
              "port in .env.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
