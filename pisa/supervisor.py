"""`make run`'s parts kept running: a part that exits unasked is restarted; Ctrl-C or TERM stops all.

    python -m pisa.supervisor        (scripts/run.sh execs it once everything is prepared)

Over weeks a part will crash: an out-of-memory kill, a bug, a lost database. The others keep
running (the analysts' dashboard above all) while the crashed one is started again after a
back-off: 1 s, doubling to 60 s while it keeps failing within a minute of its start, back to 1 s
once it has run for a minute. Each exit and restart is one line on the console saying which part,
how it ended and when it starts again.

Each part runs in a session of its own, so a stop reaches every process it started (Airflow's task
processes included). Airflow's parts write to `<AIRFLOW_HOME>/logs/<part>.out`, rotated here when
one passes 20 MB (one older copy, `.out.1`, is kept), so the console shows only this supervisor's
lines and the simulator's, sync's and dashboard's.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pisa.config import Settings, load_settings

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
HEALTHY_AFTER_S = 60.0      # a part that ran this long failed afresh: its back-off starts over
STOP_GRACE_S = 15.0         # time to finish batches and hand leases back before KILL
ROTATE_AT_BYTES = 20_000_000
CHECK_EVERY_S = 0.5


@dataclass
class Part:
    """One program of the product, with where its output goes (None: this console)."""

    name: str
    command: list[str]
    output: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0
    backoff_s: float = FIRST_BACKOFF_S
    restart_at: float | None = None

    def start(self) -> None:
        out = open(self.output, "ab") if self.output else None       # append: rotation truncates in place
        try:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT if out else None,
                                            start_new_session=True)
        finally:
            if out:
                out.close()
        self.started_at, self.restart_at = time.monotonic(), None

    def signal(self, signum: int) -> None:
        """Signal every process in the part's session, whatever its process group (Airflow's task
        processes make their own); the session's leader may be gone already."""
        subprocess.run(["pkill", f"-{int(signum)}", "-s", str(self.process.pid)], check=False)

    def alive(self) -> bool:
        """Whether any process of the part's session still runs."""
        self.process.poll()                     # reaps the leader once it has exited
        return subprocess.run(["pgrep", "-s", str(self.process.pid)], stdout=subprocess.DEVNULL).returncode == 0


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def rotate(path: Path, limit: int = ROTATE_AT_BYTES) -> bool:
    """Copy a part's output to `<name>.1` and empty it in place once it passes `limit` bytes
    (the part keeps appending to the same file)."""
    try:
        if path.stat().st_size < limit:
            return False
        with open(path, "rb") as current, open(path.with_name(path.name + ".1"), "wb") as old:
            while chunk := current.read(1 << 20):
                old.write(chunk)
        os.truncate(path, 0)
        return True
    except FileNotFoundError:
        return False


class Supervisor:
    def __init__(self, parts: list[Part], say=print):
        self.parts = parts
        self.say = say
        self.stop_signal: int | None = None

    def on_signal(self, signum, _frame) -> None:
        if self.stop_signal is None:            # a second signal changes nothing
            self.stop_signal = signum

    def run(self) -> int:
        """Start every part, keep them running until Ctrl-C or TERM, stop them; 128 + the signal."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.on_signal)
        for part in self.parts:
            part.start()
        while self.stop_signal is None:
            self.check()
            time.sleep(CHECK_EVERY_S)
        self.stop()
        return 128 + self.stop_signal

    def check(self) -> None:
        """Restart parts that exited unasked, once their back-off has passed; rotate outputs."""
        now = time.monotonic()
        for part in self.parts:
            if part.restart_at is None and part.process.poll() is not None:
                ran_s = now - part.started_at
                if ran_s >= HEALTHY_AFTER_S:
                    part.backoff_s = FIRST_BACKOFF_S
                part.signal(signal.SIGKILL)         # what it left behind in its session
                part.restart_at = now + part.backoff_s
                self.say(f"{part.name} exited unasked ({how_it_ended(part.process.returncode)}) after "
                         f"{ran_s:.0f} s; restarting it in {part.backoff_s:.0f} s, the other parts keep running"
                         + (f" (its output: {part.output})" if part.output else ""), flush=True)
                part.backoff_s = min(MAX_BACKOFF_S, part.backoff_s * 2)
            elif part.restart_at is not None and now >= part.restart_at:
                part.start()
                self.say(f"{part.name} restarted", flush=True)
            if part.output:
                rotate(part.output)

    def stop(self) -> None:
        """TERM every part, KILL what is left after the grace period."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        self.say(f"Stopping: {len(self.parts)} parts", flush=True)
        for part in self.parts:
            part.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(part.alive() for part in self.parts) and time.monotonic() < deadline:
            time.sleep(0.2)
        # Airflow's scheduler waits for running tasks: whatever is left is stopped hard. A killed
        # stream task's sessions close, and the server frees its lease at once.
        for part in self.parts:
            part.signal(signal.SIGKILL)
            part.process.wait()
        self.say("Stopped.", flush=True)


def product_parts(settings: Settings, env: dict[str, str]) -> list[Part]:
    """What `make run` runs, from the settings (scripts/run.sh has prepared the databases)."""
    venv = Path(sys.executable).parent
    pisa = str(venv / "pisa")
    parts = []
    if settings.sim_rate != 0:
        parts.append(Part("simulator", [pisa, "simulate"]))
    if settings.run_sync == "airflow":
        logs = Path(env["AIRFLOW_HOME"]) / "logs"
        airflow = str(venv / "airflow")
        for name, extra in (("scheduler", []), ("dag-processor", []), ("triggerer", []),
                            ("api-server", ["--host", env["AIRFLOW__API__HOST"], "--port", env["AIRFLOW__API__PORT"]])):
            parts.append(Part(f"airflow {name}", [airflow, name, *extra], logs / f"{name}.out"))
    else:
        parts.append(Part("sync", [pisa, "sync"]))
    parts.append(Part("dashboard", [str(venv / "gunicorn"), "--config", "gunicorn.conf.py", "dashboard:create_app()"]))
    return parts


def main() -> int:
    return Supervisor(product_parts(load_settings(), dict(os.environ))).run()


if __name__ == "__main__":
    sys.exit(main())
