"""The push benchmarks' writer: marked rows committed into random sources at a steady rate.

With nothing else writing, the k-th commit is what moves the total row count to baseline + k, so
whoever sees the count reach baseline + k (a stream client, a poller, the page) saw that commit.
"""
from __future__ import annotations

import random
import threading
import time

from bench.common import percentile
from bench.freshness import write_one
from pisa import db
from pisa.config import Settings


class MarkedWriter(threading.Thread):
    """Commits `rate` rows a second for `seconds`, one transaction each; `commits[k]` is the wall
    time (time.time()) just after the commit that made the count baseline + k + 1."""

    def __init__(self, settings: Settings, rate: float, seconds: float):
        super().__init__(name="marked-writer", daemon=True)
        self.settings, self.rate, self.total = settings, rate, int(rate * seconds)
        self.commits: list[float] = []
        self.rng = random.Random()

    def run(self) -> None:
        conns = {s: db.connect(self.settings.source_url(s), application_name="pisa-bench-writer", autocommit=True)
                 for s in self.settings.sources}
        started = time.monotonic()
        try:
            for i in range(self.total):
                time.sleep(max(0.0, started + i / self.rate - time.monotonic()))
                source = self.rng.choice(self.settings.sources)
                with conns[source].cursor() as cur:
                    write_one(cur, self.rng, "insert", source)
                self.commits.append(time.time())
        finally:
            for conn in conns.values():
                conn.close()


def latencies_ms(commits: list[float], seen: list[tuple[float, int]], baseline: int) -> list[float]:
    """Per commit, from its time to the first (time, count) in `seen` (in time order) whose count
    shows it; commits never seen are left out (the caller counts them)."""
    found, k = [], 0
    for at, count in seen:
        while k < len(commits) and count >= baseline + k + 1:
            found.append((at - commits[k]) * 1000)
            k += 1
    return found


def percentiles(values: list[float]) -> dict:
    """p50, p95, p99 and max of `values` (ms), or None each when there are none."""
    ordered = sorted(values)
    if not ordered:
        return dict.fromkeys(("p50", "p95", "p99", "max"))
    return {"p50": percentile(ordered, 0.5), "p95": percentile(ordered, 0.95), "p99": percentile(ordered, 0.99),
            "max": ordered[-1]}


def ms(value: float | None, places: int = 0) -> str:
    """A latency for the reports: '123 ms', or '-' when there was none to measure."""
    return "-" if value is None else f"{value:.{places}f} ms"
