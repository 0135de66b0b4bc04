"""The supervisor behind `make run`: a part that exits unasked is restarted with back-off and a
line saying which and why, the others keep running; outputs are rotated in place."""
from __future__ import annotations

import signal
import sys
import time

from pisa import supervisor
from pisa.supervisor import Part, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
FAILS_AT_ONCE = [sys.executable, "-c", "raise SystemExit(3)"]


def checked_until(sup: Supervisor, done, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        sup.check()
        time.sleep(0.05)


def test_a_killed_part_is_restarted_and_the_other_keeps_running(monkeypatch):
    monkeypatch.setattr(supervisor, "FIRST_BACKOFF_S", 0.2)
    lines: list[str] = []
    kept, crashed = Part("dashboard", SLEEPER, backoff_s=0.2), Part("airflow scheduler", SLEEPER, backoff_s=0.2)
    sup = Supervisor([kept, crashed], say=lambda text, **_: lines.append(text))
    try:
        kept.start(), crashed.start()
        kept_pid, crashed_pid = kept.process.pid, crashed.process.pid
        crashed.signal(signal.SIGKILL)
        checked_until(sup, lambda: crashed.process.pid != crashed_pid)
        assert lines[0].startswith("airflow scheduler exited unasked (killed by SIGKILL) after 0 s; "
                                   "restarting it in 0 s, the other parts keep running")
        assert lines[1] == "airflow scheduler restarted"
        assert crashed.process.poll() is None and kept.process.pid == kept_pid and kept.process.poll() is None
    finally:
        for part in (kept, crashed):
            part.signal(signal.SIGKILL)
            part.process.wait()


def test_a_part_failing_at_once_is_restarted_ever_more_slowly(monkeypatch):
    lines: list[str] = []
    failing = Part("sync", FAILS_AT_ONCE, backoff_s=0.05)
    sup = Supervisor([failing], say=lambda text, **_: lines.append(text))
    failing.start()
    checked_until(sup, lambda: sum("exited unasked" in line for line in lines) == 4)
    failing.process.wait()
    assert [line.split(";")[0] for line in lines if "exited" in line] == ["sync exited unasked (exit status 3) after 0 s"] * 4
    assert failing.backoff_s == 0.8                      # 0.05, 0.1, 0.2, 0.4 waited, doubling
    failing.started_at -= supervisor.HEALTHY_AFTER_S     # as if this run had lasted a minute
    failing.restart_at = None
    checked_until(sup, lambda: failing.restart_at is not None)
    assert failing.backoff_s == 2 * supervisor.FIRST_BACKOFF_S    # it started over


def test_an_output_past_its_limit_is_kept_once_and_emptied_in_place(tmp_path):
    out = tmp_path / "scheduler.out"
    with open(out, "ab") as writer:                      # as a part holds it: appending
        writer.write(b"x" * 100)
        writer.flush()
        assert supervisor.rotate(out, limit=50) is True
        writer.write(b"after\n")
    assert (tmp_path / "scheduler.out.1").read_bytes() == b"x" * 100
    assert out.read_bytes() == b"after\n"
    assert supervisor.rotate(out, limit=50) is False
