"""What the product costs by itself: the machine's idle share and the CPU of each part, under
`make run`'s product (Airflow included) with the simulator at a low rate.

    .venv/bin/python bench/idle.py [--rate 5] [--settle 60] [--seconds 60]

Starts the product (`scripts/run.sh`) unless the API already answers, waits --settle seconds,
then reads /proc every half second for --seconds: each process's CPU, by part (Airflow's
services, its task processes, which are the sync runs, the dashboard, the simulator, and
PostgreSQL's backends by database, WAL senders apart). Processes that end within the window (a
sync run handing over, its sessions and WAL sender) count with what they used up to their last
reading, so a part that restarts often is not hidden. Every sync run's central session and WAL
sender is new every 30 s: their CPU per lifetime is printed too.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds, machine_line, product_part, start_product, stop_product  # noqa: E402
from pisa import db  # noqa: E402
from pisa.config import load_settings  # noqa: E402

SAMPLE_EVERY_S = 0.5


def part_of(cmdline: str, central_db: str) -> str | None:
    """The product part a process belongs to, from its command line (PostgreSQL's by database;
    the others as `bench.common.product_part` names them); None: not the product's."""
    if cmdline.startswith("postgres:"):
        if "walsender" in cmdline:
            return "PostgreSQL: WAL senders"
        # "postgres: [cluster name:] user database client state"
        words = cmdline.split()[1:5]
        if central_db in words:
            return "PostgreSQL: central backends"
        if any(word.startswith("pisa_src") or "_src_" in word for word in words):
            return "PostgreSQL: source backends"
        if any("airflow" in word for word in words):
            return "PostgreSQL: Airflow metadata backends"
        return "PostgreSQL: server processes"
    return product_part(cmdline)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def measure(seconds: float, central_db: str) -> None:
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    part: dict[int, str] = {}
    psutil.cpu_times_percent()             # the machine idle share: from here
    started = time.monotonic()
    first_round = True
    while time.monotonic() - started < seconds:
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid not in part:
                found = part_of(command_line(pid), central_db)
                if found is None:
                    continue
                part[pid] = found
            used = cpu_seconds(pid)
            if not used and pid in last:        # gone since listdir: keep its last reading
                continue
            first.setdefault(pid, used if first_round else 0.0)    # 0: born in the window
            last[pid] = used
        first_round = False
        time.sleep(SAMPLE_EVERY_S)
    elapsed = time.monotonic() - started
    idle = psutil.cpu_times_percent().idle
    alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
    cores: dict[str, float] = defaultdict(float)
    ended: dict[str, list[float]] = defaultdict(list)
    for pid, used in last.items():
        cores[part[pid]] += (used - first.get(pid, 0.0)) / elapsed
        if pid not in alive and first.get(pid) == 0.0:
            ended[part[pid]].append(used)
    print(f"  over {elapsed:.0f} s the machine was {idle:.0f} % idle; "
          f"the product's parts used {sum(cores.values()):.2f} cores:")
    for name, used in sorted(cores.items(), key=lambda item: -item[1]):
        lives = ended.get(name, [])
        life = f"   ({len(lives)} ended in the window, {1000 * sum(lives) / len(lives):.0f} ms each over their life)" \
            if lives else ""
        print(f"    {used:5.2f} cores  {name}{life}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=5, help="simulator rows per second (default 5)")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait before measuring (default 60)")
    parser.add_argument("--seconds", type=float, default=60, help="measuring window (default 60)")
    args = parser.parse_args()
    settings = load_settings()
    print(machine_line("Idle-cost benchmark"))
    product = start_product(settings, sim_rate=args.rate)
    try:
        print(f"  settling for {args.settle:g} s, then measuring for {args.seconds:g} s...", flush=True)
        time.sleep(args.settle)
        measure(args.seconds, db.database_name(settings.central_url))
    finally:
        stop_product(product)


if __name__ == "__main__":
    main()
