"""Benchmark of the sync core: catch-up rate, idle poll cost and the cost of a busy poll.

    .venv/bin/python bench/sync.py [--sources 20] [--catchup-rows 50000] [--keep]

Creates its own databases (prefix pisa_bench_) on the server of PISA_CENTRAL_URL, prints the
figures and, in the same run, the baseline a poll is compared with: re-reading the whole source
table (what any design without change detection pays on every poll).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, drop_databases, machine_line  # noqa: E402
from pisa import db  # noqa: E402
from pisa.central_setup import init_central  # noqa: E402
from pisa.config import COUNTRIES  # noqa: E402
from pisa.sources.setup import init_sources  # noqa: E402
from pisa.sources.writer import SourceWriter, WriterStats  # noqa: E402
from pisa.sync import runner  # noqa: E402
from pisa.sync.pacing import PollPacer  # noqa: E402
from pisa.sync.runner import SourceRunner  # noqa: E402

IDLE_POLLS = 60
BUSY_POLLS = 5
FOLLOWED_SOURCES = 20


def create(settings, rows: int, filler_columns: int) -> None:
    init_central(settings, reset=True)
    init_sources(settings, rows=rows, filler_columns=filler_columns, reset=True, seed=1,
                 progress=lambda s, done, total, t: done == total and print(
                     f"    {s}: {total:,} rows loaded ({total / t:,.0f} rows/s)", flush=True))


def timed_ms(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def full_reread_ms(settings, source: str) -> float:
    """Baseline: read every row's extracted columns, as a sync without change detection must."""
    conn = db.connect_source(settings.source_url(source))
    try:
        def read_all():
            with conn.cursor() as cur:
                cur.execute("SELECT id, cnt, escs, tmins, belong, durecec FROM responses")
                cur.fetchall()
            conn.commit()
        read_all()
        return statistics.median(timed_ms(read_all) for _ in range(5))
    finally:
        conn.close()


def bench_catchup(sources: int, rows: int, filler_columns: int, keep: bool) -> dict:
    settings = bench_settings("catchup", COUNTRIES[:sources])
    print(f"  creating {sources} sources x {rows:,} rows ({filler_columns} filler columns)...", flush=True)
    create(settings, rows, filler_columns)
    started = time.monotonic()
    results = runner.sync_all_once(settings)
    elapsed = time.monotonic() - started
    assert all(r.status == "ok" for r in results), [r.describe() for r in results]
    total = sum(r.changed for r in results)
    if not keep:
        drop_databases(settings)
    return {"rows": total, "seconds": elapsed, "rows_per_s": total / elapsed}


def bench_polls(rows: int, filler_columns: int, keep: bool) -> dict:
    settings = bench_settings(f"poll{rows}", ("ALB",))
    print(f"  creating 1 source x {rows:,} rows ({filler_columns} filler columns)...", flush=True)
    create(settings, rows, filler_columns)
    runner.sync_all_once(settings)
    sync = SourceRunner(settings, "ALB", application_name="pisa-bench")
    assert sync.try_acquire()
    for _ in range(3):
        sync.poll()
    idle = [timed_ms(sync.poll) for _ in range(IDLE_POLLS)]
    writer = SourceWriter(settings, "ALB", random.Random(5), bad_share=0.01)
    busy = []
    for _ in range(BUSY_POLLS):
        writer.write(["insert"] * 800 + ["update"] * 200, WriterStats())
        busy.append(timed_ms(sync.poll))
    writer.close()
    sync.close()
    baseline = full_reread_ms(settings, "ALB")
    if not keep:
        drop_databases(settings)
    idle_ms = statistics.median(idle)
    # The interval the follow loop settles at when it follows FOLLOWED_SOURCES sources this size.
    follow = PollPacer(settings.replace(sources=COUNTRIES[:FOLLOWED_SOURCES]), "ALB")
    for _ in range(50):
        follow.record(idle_ms / 1000)
    return {"rows": rows, "idle_ms": idle_ms, "idle_p95_ms": sorted(idle)[int(0.95 * len(idle))],
            "busy_ms": statistics.median(busy), "full_reread_ms": baseline,
            "interval_s": follow.interval_s, "max_age_s": follow.interval_s + idle_ms / 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=20, help="sources in the catch-up run (default 20)")
    parser.add_argument("--catchup-rows", type=int, default=50_000, help="rows per source in the catch-up run")
    parser.add_argument("--poll-sizes", default="10000,200000", help="rows per source for the poll costs")
    parser.add_argument("--filler-columns", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()

    print(machine_line("Sync benchmark"))
    print("Initial catch-up:")
    catchup = bench_catchup(args.sources, args.catchup_rows, args.filler_columns, args.keep)
    print(f"  => caught up {catchup['rows']:,} rows in {catchup['seconds']:.1f} s: "
          f"{catchup['rows_per_s']:,.0f} rows/s (target >= 20,000)")

    print("Poll costs (one source; a follow loop keeps its connections open):")
    polls = [bench_polls(int(size), args.filler_columns, args.keep) for size in args.poll_sizes.split(",")]
    print()
    print(f"{'rows/source':>12} {'idle poll':>10} {'idle p95':>9} {'1,000 changes':>14} "
          f"{'full re-read':>13} {'idle vs re-read':>16} {'poll every':>11} {'data age <=':>12}")
    for p in polls:
        print(f"{p['rows']:>12,} {p['idle_ms']:>8.2f}ms {p['idle_p95_ms']:>7.2f}ms {p['busy_ms']:>12.1f}ms "
              f"{p['full_reread_ms']:>11.1f}ms {p['full_reread_ms'] / p['idle_ms']:>15.1f}x "
              f"{p['interval_s']:>10.2f}s {p['max_age_s']:>11.2f}s")
    print(f"(poll every / data age: the follow loop's interval with {FOLLOWED_SOURCES} sources of that size "
          f"under the default budget of half a core; target idle poll <= 3 ms at 10,000 rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
