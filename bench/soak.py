"""Soak: the whole product under `make run` for a while; does anything grow that should not?

    .venv/bin/python bench/soak.py [--minutes 20] [--keep-hours 0.05] [--sim-rate 100] [--sample-every 60]

Starts the product as `make run` does (`scripts/run.sh`: simulator, Airflow, dashboard) with
PISA_AIRFLOW_KEEP_HOURS small, so the maintenance DAG's retention reaches its steady state within
the soak, and Airflow's StatsD metrics sent to this script (the scheduler's loop time). A writer
commits marked rows (2 a second, at fresh negative ids in random sources) and times each from its
commit to its arrival in the central `facts` (the API's next read shows it, at most
PISA_API_CACHE_SECONDS later). Every --sample-every seconds it records: Airflow's metadata DB size,
DAG run and task instance rows, task log bytes and the parts' output files, the central
DB's size, its hot tables' size and dead rows, `facts`' size (it grows with the data), memory
per part (PSS), open PostgreSQL connections, the scheduler loop time, and the marked rows' freshness.

It prints the table, then each figure's growth per hour in the steady state (from keep-hours plus
the maintenance DAG's 10 minutes on; each sample against the one a cleanup cycle earlier, so what
the cleanup saws down compares at the same phase) and whether it grows (more than 2% of its level
per cycle), and compares the freshness p99 of the first and the last 5 minutes (target: within 20%).
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, percentile, product_part, start_product, stop_product  # noqa: E402
from pisa import db  # noqa: E402
from pisa.airflow_env import airflow_home  # noqa: E402
from pisa.config import load_settings  # noqa: E402

MARKED_PER_S = 2.0
CLEAN_EVERY_MIN = 10          # dags/pisa_maintenance.py
HOT_TABLES = ("country_stats", "arrivals_hourly", "sync_state")
# A figure "grows" when it gains more than this share of its level per maintenance cycle: what a
# half-hour soak can tell from noise. Slower drifts show in the per-day projection printed with it.
GROWS_PER_CYCLE = 0.02


class LoopTimes:
    """Airflow's StatsD timers, received on a UDP port: the scheduler's loop durations (ms)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.values: list[float] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.receive, daemon=True).start()

    def receive(self) -> None:
        while True:
            for line in self.sock.recv(65536).decode(errors="replace").splitlines():
                name, _, rest = line.partition(":")
                if name.endswith("scheduler.scheduler_loop_duration"):
                    with self.lock:
                        self.values.append(float(rest.split("|")[0]))

    def airflow_settings(self) -> dict[str, str]:
        """The environment that makes Airflow's parts send their StatsD metrics here."""
        return {"AIRFLOW__METRICS__STATSD_ON": "True", "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
                "AIRFLOW__METRICS__STATSD_PORT": str(self.port), "AIRFLOW__METRICS__STATSD_PREFIX": "airflow"}

    def take(self) -> list[float]:
        with self.lock:
            taken, self.values = self.values, []
        return taken


class MarkedRows:
    """Commits marked rows and times each to its arrival in the central facts."""

    def __init__(self, settings):
        self.settings = settings
        self.pending: dict[tuple[str, int], float] = {}
        self.latencies: list[tuple[float, float]] = []     # (commit time, seconds to central)
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def write(self) -> None:
        rng = random.Random()
        conns = {s: db.connect(self.settings.source_url(s), application_name="pisa-bench-soak", autocommit=True)
                 for s in self.settings.sources}
        started, i = time.monotonic(), 0
        while not self.stopped.is_set():
            time.sleep(max(0.0, started + i / MARKED_PER_S - time.monotonic()))
            i += 1
            source, row_id = rng.choice(self.settings.sources), -rng.randint(1, 2**31 - 1)
            with conns[source].cursor() as cur:
                cur.execute(db.load_sql("bench/insert_marked_row.sql"), (row_id, source))
                if cur.fetchone():
                    with self.lock:
                        self.pending[(source, row_id)] = time.time()
        for conn in conns.values():
            conn.close()

    def watch(self) -> None:
        with closing(db.connect(self.settings.central_url, application_name="pisa-bench-soak",
                                autocommit=True)) as conn, conn.cursor() as cur:
            while not self.stopped.is_set():
                with self.lock:
                    keys = list(self.pending)
                if keys:
                    cur.execute(db.load_sql("bench/marked_rows_present.sql"),
                                ([s for s, _ in keys], [i for _, i in keys]))
                    now = time.time()
                    with self.lock:
                        for source, row_id in cur.fetchall():
                            committed = self.pending.pop((source, row_id))
                            self.latencies.append((committed, now - committed))
                time.sleep(0.05)

    def start(self) -> None:
        for target in (self.write, self.watch):
            threading.Thread(target=target, daemon=True).start()

    def since(self, t0: float, t1: float) -> list[float]:
        """Seconds to central of the rows committed in [t0, t1) that have arrived, sorted."""
        with self.lock:
            return sorted(latency for at, latency in self.latencies if t0 <= at < t1)

    def missing(self, t0: float, t1: float) -> int:
        """Rows committed in [t0, t1) that have not arrived (yet)."""
        with self.lock:
            return sum(1 for at in self.pending.values() if t0 <= at < t1)


def part_memory_mb(supervisor_pid: int) -> dict[str, float]:
    """Memory of each part: the proportional set size (shared pages split between their users) of
    its whole session, so the scheduler's figure includes the task processes it runs."""
    parts = {}      # each part's session (its leader's pid) -> its name
    for child in psutil.Process(supervisor_pid).children():
        cmdline = " ".join(child.cmdline())
        parts[child.pid] = product_part(cmdline) or cmdline[:20]
    pss = dict.fromkeys(parts, 0.0)
    for proc in psutil.process_iter():
        try:
            session = os.getsid(proc.pid)
            if session in pss:          # smaps are read for the parts' processes only
                pss[session] += proc.memory_full_info().pss
        except (ProcessLookupError, psutil.Error):
            continue
    return {name: pss[session] / 1e6 for session, name in parts.items()}


def airflow_history_size(url: str) -> tuple[float, int, int]:
    """Airflow's metadata DB size (MB), DAG runs and task instances."""
    with closing(db.connect(url, application_name="pisa-bench", autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("bench/airflow_history_size.sql"))
        size, runs, task_instances = cur.fetchone()
        return float(size), runs, task_instances


def sample(settings, log_folder: Path, supervisor_pid: int, loops: LoopTimes) -> dict[str, float]:
    figures: dict[str, float] = {}
    figures["metadata MB"], figures["dag runs"], figures["task instances"] = airflow_history_size(
        settings.airflow_db_url)
    with closing(db.connect(settings.central_url, application_name="pisa-bench-soak", autocommit=True)) as conn, \
            conn.cursor() as cur:
        cur.execute(db.load_sql("bench/central_size.sql"), {"hot": list(HOT_TABLES)})
        (figures["central MB"], figures["facts MB"], figures["hot tables kB"], figures["hot dead rows"],
         figures["pg connections"]) = cur.fetchone()
    # Task logs (the maintenance DAG removes old ones) apart from the parts' own output files
    # (the scheduler's holds a copy of every task line; make run rotates them at 20 MB).
    files = [f for f in log_folder.rglob("*") if f.is_file()]
    figures["task logs MB"] = sum(f.stat().st_size for f in files if ".out" not in f.name) / 1e6
    figures["part outputs MB"] = sum(f.stat().st_size for f in files if ".out" in f.name) / 1e6
    for part, mb in part_memory_mb(supervisor_pid).items():
        figures[f"{part} MB"] = mb
    loop = sorted(loops.take())
    figures["loop p50 ms"], figures["loop max ms"] = (statistics.median(loop), loop[-1]) if loop else (float("nan"),) * 2
    return {name: float(value) for name, value in figures.items()}


def growth_per_hour(points: list[tuple[float, float]], cycle_s: float) -> float | None:
    """How much a figure gains per hour, from each sample against the one a maintenance cycle
    earlier: a figure the cleanup saws down every cycle compares at the same phase of it, so
    only what is left after the cleanups counts. None with no sample a cycle apart."""
    gains = [(later - earlier) / (t1 - t0) for t0, earlier in points for t1, later in points
             if abs(t1 - t0 - cycle_s) < cycle_s / 20]
    return 3600 * statistics.fmean(gains) if gains else None


def report(samples: list[tuple[float, dict]], steady_from_s: float, marked: MarkedRows, t0: float, t_end: float) -> None:
    names = list(dict.fromkeys(name for _, figures in samples for name in figures))
    width = max(len(name) for name in names)
    print("\n  " + f"{'minute':>{width}}" + "".join(f"{at / 60:8.1f}" for at, _ in samples))
    for name in names:      # one row per figure, one column per sample: the table stays readable
        print("  " + f"{name:>{width}}" + "".join(f"{figures.get(name, float('nan')):8.1f}" for _, figures in samples))
    steady = [(at, figures) for at, figures in samples if at >= steady_from_s]
    print(f"\n  Growth in the steady state (from minute {steady_from_s / 60:.0f}: each sample against the "
          f"one {CLEAN_EVERY_MIN} minutes earlier, the maintenance cycle):")
    for name in names:
        points = [(at, figures[name]) for at, figures in steady if name in figures and figures[name] == figures[name]]
        per_hour = growth_per_hour(points, CLEAN_EVERY_MIN * 60)
        if per_hour is None:
            print(f"    {name:>{width}}: too few samples")
            continue
        level = statistics.fmean(p[1] for p in points)
        if name.endswith("max ms"):
            verdict = "a maximum: not judged"
        elif per_hour * CLEAN_EVERY_MIN / 60 > GROWS_PER_CYCLE * abs(level):
            verdict = "GROWS" + {"facts MB": " (with the data, as expected)", "central MB": " (with the data, as expected)",
                                 "part outputs MB": " (until make run rotates them at 20 MB)"}.get(name, "")
        else:
            verdict = "flat"
        print(f"    {name:>{width}}: {per_hour:+10.2f} per hour (mean {level:.1f}): {verdict}")
    first, last = marked.since(t0, t0 + 300), marked.since(t_end - 300, t_end)
    p_first, p_last = percentile(first, 0.99) * 1000, percentile(last, 0.99) * 1000
    with marked.lock:
        never = len(marked.pending)
    print(f"\n  Freshness, commit -> central: first 5 min p50 {percentile(first, 0.5) * 1000:.0f} ms, "
          f"p99 {p_first:.0f} ms ({len(first)} rows); last 5 min p50 {percentile(last, 0.5) * 1000:.0f} ms, "
          f"p99 {p_last:.0f} ms ({len(last)} rows); {never} rows not arrived at the end")
    print(f"  last 5 min p99 vs first: {100 * (p_last / p_first - 1):+.0f}% (target: within 20%)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--keep-hours", type=float, default=0.05)
    parser.add_argument("--sim-rate", type=float, default=100)
    parser.add_argument("--sample-every", type=float, default=60)
    args = parser.parse_args()
    settings = load_settings()
    loops = LoopTimes()
    os.environ.update({"PISA_AIRFLOW_KEEP_HOURS": str(args.keep_hours), "PISA_SIM_RATE": str(args.sim_rate),
                       **loops.airflow_settings()})
    print(machine_line("Soak"))
    print(f"  {args.minutes:g} min, simulator {args.sim_rate:g} rows/s, PISA_AIRFLOW_KEEP_HOURS={args.keep_hours:g}, "
          f"{MARKED_PER_S:g} marked rows/s; a sample every {args.sample_every:g} s", flush=True)
    product = start_product(settings, sim_rate=args.sim_rate)
    if product is None:
        print("  the product is already running: stop it first (the soak sets its own settings)")
        return 1
    marked = MarkedRows(settings)
    samples: list[tuple[float, dict]] = []
    try:
        t0 = time.time()
        marked.start()
        log_folder = airflow_home(settings) / "logs"
        while time.time() - t0 < args.minutes * 60:
            time.sleep(max(0.0, t0 + (len(samples) + 1) * args.sample_every - time.time()))
            samples.append((time.time() - t0, sample(settings, log_folder, product.pid, loops)))
            figures = samples[-1][1]
            print(f"  minute {samples[-1][0] / 60:4.1f}: metadata {figures['metadata MB']:.1f} MB, "
                  f"{figures['dag runs']:.0f} runs, task logs {figures['task logs MB']:.1f} MB, "
                  f"central {figures['central MB']:.1f} MB, hot dead rows {figures['hot dead rows']:.0f}, "
                  f"loop p50 {figures['loop p50 ms']:.0f} ms", flush=True)
        t_end = time.time()
    finally:
        marked.stopped.set()
        stop_product(product)
    report(samples, (args.keep_hours * 60 + CLEAN_EVERY_MIN) * 60, marked, t0, t_end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
