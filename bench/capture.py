"""Capture strategies side by side in one run: what following a source costs it while idle, and
how soon a commit reaches the central database under load, for xmin polls and wal streaming.

    .venv/bin/python bench/capture.py [--sizes 10000,200000,1000000] [--idle-seconds 60]
                                      [--rate 500] [--busy-seconds 20] [--delete-rate 20]

For each size: one source of that many rows (100 filler columns, as the simulator makes them)
and one central database per strategy (two stacks, so two slot names). Each strategy in turn:

  initial  the first sync of every row (wal: in its new slot's snapshot);
  idle     the sync core's follower (`SourceRunner.follow`, production pacing and checks) runs
           --idle-seconds with nothing written: source blocks touched (pg_stat_database blks_hit
           + blks_read of the source database) and CPU of the source's backends serving it (its
           session and, for wal, its WAL sender; /proc utime + stime), per minute;
  busy     a writer commits --rate rows/s, one row per transaction, for --busy-seconds while the
           follower runs: per row, commit -> the central country_stats count showing it (read
           every 5 ms); then --delete-rate deletes/s the same way.

Creates its own databases (prefix pisa_bench_capture_) on PISA_BENCH_SERVER_URL's server and drops
them at the end (--keep keeps them).
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, cpu_seconds, drop_databases, machine_line, percentile  # noqa: E402
from pisa import db  # noqa: E402
from pisa.central_setup import init_central  # noqa: E402
from pisa.sources.setup import init_sources  # noqa: E402
from pisa.sync.runner import SourceRunner, poll_source_once  # noqa: E402

SOURCE = "ALB"
STRATEGIES = ("xmin", "wal")
OBSERVE_EVERY_S = 0.005
SETTLE_S = 10


def stacks(size: int) -> dict:
    """One source, and one central database (a stack of its own) per strategy."""
    source = bench_settings("capture", [SOURCE])
    return {name: source.replace(central_url=source.central_url.replace("_central", f"_central_{name}"), capture=name)
            for name in STRATEGIES}


def source_counters(observer) -> tuple[int, float]:
    """Blocks the source database touched so far, and the CPU seconds of the backends the
    bench's followers hold on it (by application name). `observer` is one connection for the
    whole window: a new one would count its own start-up (catalog reads) in the window."""
    with observer.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()")
        blocks = cur.fetchone()[0]
        cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'pisa-bench-follow%%'")
        pids = [pid for (pid,) in cur.fetchall()]
    return blocks, sum(cpu_seconds(pid) for pid in pids)


class Follower:
    """The sync core's follower of the bench's source, in a thread, until stopped."""

    def __init__(self, settings):
        self.stop = threading.Event()
        self.runner = SourceRunner(settings, SOURCE, application_name="pisa-bench-follow")
        self.thread = threading.Thread(target=self.runner.follow, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=60)


def central_rows(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT rows FROM country_stats WHERE source = %s", (SOURCE,))
        found = cur.fetchone()
    return found[0] if found else 0


USED_IDS: set[int] = set()


def new_id(rng: random.Random) -> int:
    """A random id that neither the loaded rows (1 to 2**31 - 1) nor an earlier insert of this
    run has: a negative one."""
    while (row_id := -rng.randrange(1, 2**31)) in USED_IDS:
        pass
    USED_IDS.add(row_id)
    return row_id


def latencies(settings, rate: float, seconds: float, kind: str) -> dict:
    """Commit -> central count for `rate` writes/s of `kind` (insert or delete) for `seconds`."""
    writer = db.connect(settings.source_url(SOURCE), application_name="pisa-bench-writer", autocommit=True)
    central = db.connect(settings.central_url, application_name="pisa-bench-observer", autocommit=True)
    with writer.cursor() as cur:
        cur.execute("SELECT id FROM responses ORDER BY random() LIMIT %s", (int(rate * seconds),))
        victims = [row_id for (row_id,) in cur.fetchall()]
    committed: deque[float] = deque()
    lock = threading.Lock()
    done = threading.Event()
    total = int(rate * seconds)
    rng = random.Random()

    def write() -> None:
        started = time.monotonic()
        try:
            with writer.cursor() as cur:
                for i in range(total):
                    time.sleep(max(0.0, started + i / rate - time.monotonic()))
                    if kind == "insert":
                        cur.execute("INSERT INTO responses (id, cnt, escs, tmins, belong, durecec) "
                                    "VALUES (%s, %s, '0.5', '1500', '0.1', '3')", (new_id(rng), SOURCE))
                    else:
                        cur.execute("DELETE FROM responses WHERE id = %s", (victims[i],))
                    with lock:
                        committed.append(time.time())
        finally:
            done.set()

    baseline = central_rows(central)
    thread = threading.Thread(target=write)
    thread.start()
    seen: list[float] = []
    settle_until = None
    while True:
        shown = abs(central_rows(central) - baseline)
        now = time.time()
        with lock:
            while len(seen) < min(shown, len(committed)):
                seen.append(now - committed[len(seen)])
        if done.is_set():
            settle_until = settle_until or time.monotonic() + SETTLE_S
            if len(seen) >= total or time.monotonic() > settle_until:
                break
        time.sleep(OBSERVE_EVERY_S)
    thread.join()
    writer.close(), central.close()
    seen.sort()
    return {"p50": percentile(seen, 0.5) * 1000, "p99": percentile(seen, 0.99) * 1000,
            "max": seen[-1] * 1000 if seen else math.nan, "lost": total - len(seen)}


def measure(size: int, args) -> dict:
    settings = stacks(size)
    print(f"  {size:,} rows: loading the source...", flush=True)
    init_sources(settings["xmin"], rows=size, reset=True, seed=1)
    results = {}
    for name in STRATEGIES:
        init_central(settings[name], reset=True)
        started = time.monotonic()
        first = poll_source_once(settings[name], SOURCE)
        assert first.status == "ok", first.describe()
        initial_s = time.monotonic() - started
        observer = db.connect(settings[name].source_url(SOURCE), application_name="pisa-bench-observer",
                              autocommit=True)
        with observer.cursor() as cur:      # no autovacuum pass inside the window (the last busy phase wrote)
            cur.execute("VACUUM ANALYZE responses")
            cur.execute("SELECT pg_stat_force_next_flush()")    # the vacuum's blocks counted before it
            cur.execute("SELECT 1")
        with Follower(settings[name]):
            time.sleep(5)                           # past the first polls and the pacer's warm-up
            blocks, cpu = source_counters(observer)
            time.sleep(args.idle_seconds)
            blocks_after, cpu_after = source_counters(observer)
            observer.close()
            per_minute = 60 / args.idle_seconds
            idle = {"blocks": (blocks_after - blocks) * per_minute, "cpu_ms": (cpu_after - cpu) * per_minute * 1000}
            inserts = latencies(settings[name], args.rate, args.busy_seconds, "insert")
            deletes = latencies(settings[name], args.delete_rate, args.busy_seconds, "delete") \
                if args.delete_rate else None
        results[name] = {"initial_s": initial_s, "idle": idle, "inserts": inserts, "deletes": deletes}
        print(f"    {name:>4}: initial sync {initial_s:.1f} s; idle: {idle['blocks']:,.0f} blocks/min, "
              f"{idle['cpu_ms']:,.0f} ms CPU/min; inserts at {args.rate:g}/s: p50 {inserts['p50']:.0f} ms, "
              f"p99 {inserts['p99']:.0f} ms, max {inserts['max']:.0f} ms, never seen {inserts['lost']}"
              + (f"; deletes at {args.delete_rate:g}/s: p99 {deletes['p99']:.0f} ms, max {deletes['max']:.0f} ms, "
                 f"never seen {deletes['lost']}" if deletes else ""), flush=True)
    if not args.keep:
        for name in STRATEGIES:
            drop_databases(settings[name])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,200000,1000000", help="rows per source, comma-separated")
    parser.add_argument("--idle-seconds", type=float, default=60, help="idle window per strategy (default 60)")
    parser.add_argument("--rate", type=float, default=500, help="inserts per second under load (default 500)")
    parser.add_argument("--busy-seconds", type=float, default=20, help="writing time per kind (default 20)")
    parser.add_argument("--delete-rate", type=float, default=20, help="deletes per second (default 20; 0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    args = parser.parse_args()
    print(machine_line("Capture benchmark (xmin and wal side by side)"))
    results = {int(size): measure(int(size), args) for size in args.sizes.split(",")}
    print()
    print(f"{'rows':>10} {'capture':>7} {'initial':>8} {'idle blocks/min':>16} {'idle CPU/min':>13} "
          f"{'insert p50':>11} {'p99':>7} {'max':>7} {'delete p99':>11} {'max':>7}")
    for size, by_name in results.items():
        for name, r in by_name.items():
            deletes = r["deletes"] or {"p99": math.nan, "max": math.nan}
            print(f"{size:>10,} {name:>7} {r['initial_s']:>7.1f}s {r['idle']['blocks']:>16,.0f} "
                  f"{r['idle']['cpu_ms']:>11,.0f}ms {r['inserts']['p50']:>9.0f}ms {r['inserts']['p99']:>5.0f}ms "
                  f"{r['inserts']['max']:>5.0f}ms {deletes['p99']:>9.0f}ms {deletes['max']:>5.0f}ms")
        xmin, wal = by_name["xmin"]["idle"], by_name["wal"]["idle"]
        print(f"{'':>10} {'xmin/wal':>7} {'':>8} {ratio(xmin['blocks'], wal['blocks']):>16} "
              f"{ratio(xmin['cpu_ms'], wal['cpu_ms']):>13}")
    print("(idle: per minute of following a source nothing writes to; insert/delete: source commit -> central "
          "count, one row per transaction. Targets: wal idle cost flat in table size and at least 100x below "
          "xmin at 1,000,000 rows)")
    return 0


def ratio(a: float, b: float) -> str:
    return f"{a / b:,.0f}x" if b > 0 else ("inf" if a > 0 else "-")


if __name__ == "__main__":
    sys.exit(main())
