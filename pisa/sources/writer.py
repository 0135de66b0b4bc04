"""The real-time writer: inserts at random ids, updates and deletes across the sources.

`Simulator.run()` writes at a steady rate until stopped; `pause()`/`resume()` let tests and
benchmarks hold the sources still to compare against ground truth; `stats` says what it wrote.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from psycopg2 import sql
from psycopg2.extras import execute_values

from pisa import db
from pisa.config import Settings
from pisa.sources import defaults
from pisa.sources.generate import RowGenerator
from pisa.sources.setup import seed_for

log = logging.getLogger(__name__)

TICK_S = 0.1              # one transaction per touched source per tick
REPORT_EVERY_S = 10.0


@dataclass
class WriterStats:
    """Counts of what the simulator wrote, per operation and per source."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    malformed: int = 0
    per_source: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Rows inserted, updated and deleted."""
        return self.inserts + self.updates + self.deletes

    def describe(self) -> str:
        """One line a person can read."""
        return (f"{self.total} writes: {self.inserts} inserts, {self.updates} updates, "
                f"{self.deletes} deletes; {self.malformed} rows carried a malformed value")


class SourceWriter:
    """Writes into one source database over one connection."""

    def __init__(self, settings: Settings, source: str, rng: random.Random, bad_share: float):
        self.source = source
        self.rng = rng
        # PostgreSQL's default synchronous_commit, as a real source commits: logical replication
        # sends only flushed WAL, so an unflushed commit would wait for the WAL writer's round.
        self.conn = db.connect(settings.source_url(source), application_name="pisa-simulator")
        with self.conn.cursor() as cur:
            cur.execute(db.load_sql("source/table_columns.sql"))
            columns = [name for (name,) in cur.fetchall()]
        self.conn.commit()
        self.generator = RowGenerator(source, rng, len(columns) - 6, bad_share=bad_share)
        self.insert_sql = sql.SQL(db.load_sql("source/insert_rows.sql")).format(
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)))

    def write(self, operations: list[str], stats: WriterStats) -> None:
        """Apply a list of 'insert'/'update'/'delete' in one transaction."""
        malformed_before = self.generator.malformed
        with self.conn.cursor() as cur:
            inserts = [self.generator.row(self.generator.new_id()) for op in operations if op == "insert"]
            if inserts:
                execute_values(cur, self.insert_sql, inserts)
                stats.inserts += cur.rowcount
            for op in operations:
                if op == "insert":
                    continue
                cur.execute(db.load_sql("source/pick_existing_id.sql"), {"near": self.generator.new_id()})
                row_id = cur.fetchone()[0]
                if row_id is None:
                    continue
                if op == "update":
                    values = self.generator.index_values()
                    cur.execute(db.load_sql("source/update_indices.sql"), {**values, "id": row_id})
                    stats.updates += cur.rowcount
                else:
                    cur.execute(db.load_sql("source/delete_row.sql"), {"id": row_id})
                    stats.deletes += cur.rowcount
        self.conn.commit()
        stats.malformed += self.generator.malformed - malformed_before
        stats.per_source[self.source] += len(operations)

    def close(self) -> None:
        """Close this source's connection."""
        self.conn.close()


class Simulator:
    """Writes into all configured sources at `rate` rows per second, until stopped."""

    def __init__(self, settings: Settings, *, rate: float, update_share: float = defaults.UPDATE_SHARE,
                 delete_share: float = defaults.DELETE_SHARE, bad_share: float = defaults.BAD_SHARE,
                 seed: int | None = None):
        if update_share + delete_share > 1:
            raise ValueError("--update-share plus --delete-share must not exceed 1")
        self.settings = settings
        self.rate = rate
        self.update_share = update_share
        self.delete_share = delete_share
        self.bad_share = bad_share
        self.rng = random.Random(seed)
        self.stats = WriterStats()
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._writers: dict[str, SourceWriter] = {}
        self._base_seed = seed if seed is not None else random.randrange(1 << 30)

    def pause(self) -> None:
        """Stop writing after the current tick (the sources then hold still)."""
        self._running.clear()

    def resume(self) -> None:
        """Start writing again."""
        self._running.set()

    def stop(self) -> None:
        """End `run()` after the current tick."""
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        """True while `pause()` holds the sources still."""
        return not self._running.is_set()

    def writer(self, source: str) -> SourceWriter:
        """The writer of one source, connected on first use."""
        if source not in self._writers:
            rng = random.Random(seed_for(self._base_seed, source) + 7)
            self._writers[source] = SourceWriter(self.settings, source, rng, self.bad_share)
        return self._writers[source]

    def choose_operation(self) -> str:
        """'insert', 'update' or 'delete', drawn with the configured shares."""
        r = self.rng.random()
        if r < self.delete_share:
            return "delete"
        if r < self.delete_share + self.update_share:
            return "update"
        return "insert"

    def write_rows(self, count: int) -> None:
        """Write `count` operations spread over random sources, one transaction per source."""
        plan: dict[str, list[str]] = {}
        for _ in range(count):
            plan.setdefault(self.rng.choice(self.settings.sources), []).append(self.choose_operation())
        for source, operations in plan.items():
            self.writer(source).write(operations, self.stats)

    def run(self, seconds: float | None = None, report=None) -> WriterStats:
        """Write at the configured rate for `seconds` (None: until stop())."""
        started = last_report = time.monotonic()
        owed = 0.0
        next_tick = started
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if seconds is not None and now - started >= seconds:
                    break
                if not self._running.wait(timeout=TICK_S):
                    next_tick = time.monotonic()
                    continue
                owed += self.rate * TICK_S
                if owed >= 1:
                    self.write_rows(int(owed))
                    owed -= int(owed)
                if report and now - last_report >= REPORT_EVERY_S:
                    report(self.stats, now - started)
                    last_report = now
                next_tick += TICK_S
                time.sleep(max(0.0, next_tick - time.monotonic()))
        finally:
            self.close()
        return self.stats

    def close(self) -> None:
        """Close every source connection."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
