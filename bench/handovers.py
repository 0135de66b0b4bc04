"""The hand-over gap of the streaming runs, read from the sync runs' summaries in the task logs.

    .venv/bin/python bench/handovers.py [--minutes 10]

Each streaming run takes the source's lease from the run before it and logs one summary line
(`pisa.sync.slots.SlotSummary`): how many ms after taking the lease it was streaming from the slot,
and how many ms after it the stream had caught up with the WAL written before it. This prints the
percentiles of both over the task logs written in the last --minutes, so run it right after a
freshness run (make bench does). Target: lease to streaming under 100 ms.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, percentile  # noqa: E402
from pisa.airflow_env import airflow_home  # noqa: E402
from pisa.config import load_settings  # noqa: E402

STREAMING = re.compile(r"streaming from the slot (\d+) ms after it")
CAUGHT_UP = re.compile(r"caught up with the source (\d+) ms after it")


def gaps(logs: Path, since: float) -> tuple[list[float], list[float]]:
    """(lease to streaming, lease to caught up) in ms, one per summary in logs written since `since`."""
    streaming: list[float] = []
    caught_up: list[float] = []
    for log in logs.rglob("*.log"):
        if log.stat().st_mtime < since:
            continue
        text = log.read_text(errors="replace")
        streaming += [float(ms) for ms in STREAMING.findall(text)]
        caught_up += [float(ms) for ms in CAUGHT_UP.findall(text)]
    return sorted(streaming), sorted(caught_up)


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name}: none in these logs"
    return (f"  {name}: p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
            f"p99 {percentile(values, 0.99):.0f} ms, max {values[-1]:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="task logs written in the last N minutes (default 10)")
    args = parser.parse_args()
    logs = airflow_home(load_settings()) / "logs"
    print(machine_line("Hand-overs of the streaming runs"))
    if not logs.is_dir():
        print(f"  no task logs at {logs}: run the product under Airflow first (make run, or bench/freshness.py)")
        return 1
    streaming, caught_up = gaps(logs, time.time() - args.minutes * 60)
    print(f"  {len(streaming)} hand-overs in the task logs of the last {args.minutes:g} minutes ({logs})")
    print(line("lease taken to streaming from the slot", streaming))
    print(line("lease taken to caught up with the WAL written before it", caught_up))
    print("(target: lease to streaming under 100 ms)")
    return 0 if streaming else 1


if __name__ == "__main__":
    sys.exit(main())
