"""Freshness of the running product under Airflow: source commit -> visible in the API.

    .venv/bin/python bench/freshness.py [--rates 50,500] [--seconds 180] [--delete-rate 20]

Starts the product (`scripts/run.sh`, Airflow included) with the simulator off, unless the API
already answers on PISA_PORT (then nothing else may be writing into the sources). A writer
commits marked rows into random sources at a steady rate, one transaction each, for --seconds
(3 minutes: six handovers of every source's DAG runs). Meanwhile the API's summary, what the
chart page polls, is read every 50 ms; a source's row count growing by k shows its next k
marked rows. Per row: the time from its commit to the first summary that shows it. Prints p50,
p95, p99 and max, and the rows never seen within 15 s after the writer stops. Then the same for
deletes (--delete-rate, at random positions): a source's count dropping by k shows its next k
deletes, which xmin cannot see and the streaming runs' paced reconcile finds.

Each observation also reads the central copy's counts, so each row's time splits into the sync's
part ("at central") and the API's part. The writer commits with `synchronous_commit` on, as a real
source does (--synchronous-commit off: logical replication then waits for the WAL writer's round).
Before measuring, one marked row into every source must reach the API: a slot's first stream
after a large load decodes a backlog while the counts hold still.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_line, percentile, start_product, stop_product, summary  # noqa: E402
from pisa import db  # noqa: E402
from pisa.config import load_settings  # noqa: E402

OBSERVE_EVERY_S = 0.05
SETTLE_S = 15


def api_rows(base: str) -> dict[str, int]:
    return {s["source"]: s["rows"] for s in summary(base)["sources"]}


def central_rows(central) -> dict[str, int]:
    with central.cursor() as cur:
        cur.execute(db.load_sql("bench/central_row_counts.sql"))
        return dict(cur.fetchall())


class Shown:
    """Per source, how many of its measured writes one observation point has shown, and when."""

    def __init__(self, sources, kind: str):
        self.direction = WRITES[kind][1]
        self.shown = dict.fromkeys(sources, 0)
        self.latencies: list[float] = []
        self.worst: list[tuple[float, str, float]] = []      # (latency, source, commit time): where to look

    def observe(self, rows: dict, baseline: dict, committed: dict, now: float) -> int:
        """Count what `rows` shows beyond `baseline`; returns the writes not shown yet."""
        for source, times in committed.items():
            visible = self.direction * (rows.get(source, 0) - baseline.get(source, 0))
            while self.shown[source] < min(visible, len(times)):
                latency = now - times[self.shown[source]]
                self.latencies.append(latency)
                self.worst.append((latency, source, times[self.shown[source]]))
                self.shown[source] += 1
        return sum(len(times) - self.shown[s] for s, times in committed.items())

    def figures(self) -> dict:
        latencies = sorted(self.latencies) or [float("nan")]
        return {"seen": len(self.latencies), "p50": statistics.median(latencies) * 1000,
                "p95": percentile(latencies, 0.95) * 1000, "p99": percentile(latencies, 0.99) * 1000,
                "max": latencies[-1] * 1000, "worst": sorted(self.worst, reverse=True)[:5]}


def wait_until_streaming(conns: dict, base: str, limit_s: float = 300) -> None:
    """One marked row into every source, then wait until the API shows all of them: every
    source's stream is live, past any backlog its slot had to decode."""
    rng = random.Random()
    before = api_rows(base)
    for source, conn in conns.items():
        with conn.cursor() as cur:
            write_one(cur, rng, "insert", source)
    deadline = time.monotonic() + limit_s
    while True:
        rows = api_rows(base)
        behind = [s for s in conns if rows.get(s, 0) <= before.get(s, 0)]
        if not behind:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(behind)} sources did not show a new row within {limit_s:g} s: "
                               f"{', '.join(behind)}; see their DAG runs' logs")
        time.sleep(0.2)


def wait_until_still(base: str, quiet_s: float = 10, limit_s: float = 180) -> None:
    """Wait until no source's row count has moved for `quiet_s` (start-up catch-up and the first
    reconcile runs are over), so every later change is the benchmark's own."""
    last, since, deadline = api_rows(base), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            raise RuntimeError("the sources never held still: is a simulator still writing?")
        time.sleep(0.5)
        rows = api_rows(base)
        if rows != last:
            last, since = rows, time.monotonic()


# What a measured write does, and which way it moves its source's row count.
WRITES = {"insert": ("bench/insert_marked_row.sql", 1), "delete": ("bench/delete_row_at_or_after.sql", -1)}


def write_one(cur, rng: random.Random, kind: str, source: str) -> None:
    """One measured insert (at a fresh negative id: never the simulator's) or delete (of a row at
    a random position), committed on its own."""
    statement, _ = WRITES[kind]
    done = None
    while done is None:
        params = (-rng.randint(1, 2**31 - 1), source) if kind == "insert" else (rng.randint(-2**31, 2**31 - 1),)
        cur.execute(db.load_sql(statement), params)
        done = cur.fetchone()


def measure(settings, rate: float, seconds: float, kind: str = "insert", synchronous_commit: str = "on") -> dict:
    base = f"http://127.0.0.1:{settings.port}"
    rng = random.Random()          # fresh ids each run: earlier runs' rows are still there
    conns = {s: db.connect(settings.source_url(s), application_name="pisa-bench-freshness", autocommit=True,
                           options=f"-c synchronous_commit={synchronous_commit}") for s in settings.sources}
    central = db.connect(settings.central_url, application_name="pisa-bench-freshness", autocommit=True)
    committed = {s: deque() for s in settings.sources}
    lock = threading.Lock()
    wait_until_streaming(conns, base)
    wait_until_still(base)
    baseline, central_baseline = api_rows(base), central_rows(central)
    total = int(rate * seconds)
    at_api, at_central = Shown(settings.sources, kind), Shown(settings.sources, kind)
    done = threading.Event()

    def write() -> None:
        started = time.monotonic()
        for i in range(total):
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
            source = rng.choice(settings.sources)
            with conns[source].cursor() as cur:
                write_one(cur, rng, kind, source)
            with lock:
                committed[source].append(time.time())
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    settle_until = None
    while True:
        rows, at_central_rows = api_rows(base), central_rows(central)
        now = time.time()
        with lock:
            at_central.observe(at_central_rows, central_baseline, committed, now)
            pending = at_api.observe(rows, baseline, committed, now)
        if done.is_set():
            settle_until = settle_until or time.monotonic() + SETTLE_S
            if pending == 0 or time.monotonic() > settle_until:
                break
        time.sleep(OBSERVE_EVERY_S)
    writer.join()
    for conn in [*conns.values(), central]:
        conn.close()
    figures = at_api.figures()
    return {"kind": kind, "rate": rate, "rows": total, "lost": total - figures["seen"], **figures,
            "central": at_central.figures()}


def report(r: dict) -> None:
    """One rate's figures as soon as they are measured, with its slowest rows to look up in the task logs."""
    print(f"    p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms, "
          f"never seen {r['lost']}; at central p50 {r['central']['p50']:.0f} ms, p99 {r['central']['p99']:.0f} ms; "
          "slowest rows:", flush=True)
    for latency, source, at in r["worst"]:
        print(f"      {latency * 1000:6.0f} ms  {source}  committed {time.strftime('%H:%M:%S', time.gmtime(at))}"
              f".{int(at % 1 * 1000):03d} UTC", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="50,500", help="rows per second, comma-separated (default 50,500)")
    parser.add_argument("--seconds", type=float, default=180, help="writing time per rate (default 180)")
    parser.add_argument("--delete-rate", type=float, default=20,
                        help="then deletes per second, one transaction each, measured the same way (default 20; 0: none)")
    parser.add_argument("--synchronous-commit", choices=("on", "off"), default="on",
                        help="the writer's commits (default on, PostgreSQL's default and a real source's)")
    args = parser.parse_args()
    settings = load_settings()
    print(machine_line("Freshness benchmark"))
    product = start_product(settings)
    try:
        results = []
        for rate in (float(r) for r in args.rates.split(",")):
            print(f"  writing {rate:g} rows/s for {args.seconds:g} s...", flush=True)
            results.append(measure(settings, rate, args.seconds, synchronous_commit=args.synchronous_commit))
            report(results[-1])
        if args.delete_rate:
            rows = sum(api_rows(f"http://127.0.0.1:{settings.port}").values()) // len(settings.sources)
            print(f"  deleting {args.delete_rate:g} rows/s for {args.seconds:g} s (about {rows:,} rows per source)...",
                  flush=True)
            results.append(measure(settings, args.delete_rate, args.seconds, kind="delete",
                                   synchronous_commit=args.synchronous_commit))
            report(results[-1])
    finally:
        stop_product(product)
    print()
    print(f"{'write':>7} {'rows/s':>7} {'rows':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'never seen':>11}"
          f" {'central p50':>12} {'central p99':>12}")
    for r in results:
        print(f"{r['kind']:>7} {r['rate']:>7g} {r['rows']:>7} {r['p50']:>6.0f}ms {r['p95']:>6.0f}ms {r['p99']:>6.0f}ms "
              f"{r['max']:>6.0f}ms {r['lost']:>11} {r['central']['p50']:>10.0f}ms {r['central']['p99']:>10.0f}ms")
    print("(source commit -> first /api/v1/summary showing the row, or no longer counting it, read every 50 ms; "
          "targets: inserts p99 <= 1 s, max <= 2 s, none lost; deletes p99 <= 5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
