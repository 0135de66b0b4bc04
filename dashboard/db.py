"""The API's one way to the central DB: a SQLAlchemy engine pool over psycopg2, read-only role.

`pool_pre_ping` checks a pooled connection before use, so a restarted database heals by itself.
The pool has a connection per request thread, so no request waits for a free one.
Reads of the summaries are cached for `api_cache_seconds`: a thousand viewers polling every
second cost a handful of queries per second per process, not thousands. One read of them runs
at a time per process; while it runs, or after it failed, requests answer at once from the last
good read (its age in the freshness headers), and without one they get a 503 within about a
second: a slow or locked database never queues requests one behind another. The process's push
feed (dashboard/push.py) refreshes the same read when the sync commits a change, and while it
listens the polls answer from its reads without reading themselves.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dashboard.records import Arrivals, CountryStats, QuarantineEntry, SourceSync, records
from pisa.db import first_line, load_sql

log = logging.getLogger(__name__)

POOL_TIMEOUT_S = 1          # the pool holds a connection per thread: waiting means trouble
READ_WAIT_S = 1.0           # a request waits this long at most for another thread's read
RETRY_AFTER_S = 1           # what a 503 tells the client to wait
# While the process's push feed listens it reads at each change of the figures and every second,
# so a read is current for this long and no poll waits for a read of its own.
KEPT_FRESH_S = 2.0


class DatabaseUnavailable(Exception):
    """The central database did not answer (or not in time); the API turns this into a 503."""


@dataclass(frozen=True)
class ReadFailure:
    """The last failed read of the summaries: why, and when (this process's monotonic clock)."""

    reason: str
    at: float


@dataclass(frozen=True)
class Snapshot:
    """One consistent read of everything the charts and health views need."""

    stats: list[CountryStats]
    arrivals: dict[datetime, int]          # rows per hour of first arrival
    sync: dict[str, SourceSync]            # by source
    read_at: datetime           # the database's now() at the read
    read_monotonic: float       # this process's monotonic clock at the read
    memo: dict = field(default_factory=dict, compare=False)   # responses built from this read

    def memoized(self, key, build):
        """build() once per snapshot and key: a thousand polls of one chart cost one build."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]


class SummaryReader:
    """The API's reads of the central DB: owns the engine; hands out (cached) snapshots of the
    summaries and one-off reads."""

    def __init__(self, url: str, cache_seconds: float, threads: int):
        self.engine = create_engine(
            make_url(url).set(drivername="postgresql+psycopg2"),
            connect_args={"connect_timeout": 3, "application_name": "pisa-api",
                          # UTC whatever the server's setting (an RDS parameter group may set
                          # another): every hour bucket and time in the API is UTC. A lock
                          # (a migration, a VACUUM FULL) fails a read in a second, not five.
                          "options": "-c statement_timeout=5s -c lock_timeout=1s -c timezone=UTC"},
            pool_size=threads, max_overflow=1, pool_timeout=POOL_TIMEOUT_S,
            pool_pre_ping=True, isolation_level="REPEATABLE READ")
        self.cache_seconds = cache_seconds
        # Whether something else keeps the reads fresh: the push feed, while it listens (push.py).
        self.kept_fresh: Callable[[], bool] = lambda: False
        self._cached: tuple[float, Snapshot] | None = None
        self.failure: ReadFailure | None = None     # of the summaries, until a read succeeds
        self._lock = threading.Lock()

    @staticmethod
    def _records(connection, name: str, cls, params: dict | None = None) -> list:
        """The rows of `sql/<name>` as `cls` records, by column name."""
        return records(cls, connection.exec_driver_sql(load_sql(name), params or {}))

    @staticmethod
    def _scalar(connection, name: str, params: dict | None = None):
        """The one value of `sql/<name>` (exactly one row, read as its first column)."""
        return connection.exec_driver_sql(load_sql(name), params or {}).scalar_one()

    def read(self, work):
        """Run `work(connection)` in one read-only transaction; a database that fails, or is too
        slow to hand out a connection, raises DatabaseUnavailable (a 503)."""
        try:
            with self.engine.connect() as connection:
                with connection.begin():
                    return work(connection)
        except DBAPIError as exc:
            raise DatabaseUnavailable(first_line(exc.orig or exc)) from exc
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"no free connection within {POOL_TIMEOUT_S} s") from exc

    def snapshot(self) -> Snapshot:
        """The summaries, read at most once per `max_age()` per process, one read at a time.

        When the cached read expires, the thread that finds it so reads again while the others
        answer at once from the previous read, however old (the freshness headers carry its
        age); if the new read fails, the previous one answers too. With nothing read yet,
        requests wait for the read under way, `READ_WAIT_S` at most, and share its outcome.
        """
        requested = time.monotonic()
        cached = self._cached
        if cached and requested - cached[0] < self.max_age():
            return cached[1]
        if cached:
            if not self._lock.acquire(blocking=False):
                return cached[1]              # another thread is reading
        elif not self._lock.acquire(timeout=READ_WAIT_S):
            raise DatabaseUnavailable(f"reading the summaries has taken more than {READ_WAIT_S:g} s")
        try:
            return self._refresh(requested)
        finally:
            self._lock.release()

    def max_age(self) -> float:
        """How long a read answers requests: `cache_seconds`, or `KEPT_FRESH_S` while the push feed
        keeps it fresh. (A thousand polls a second each waiting for its own read now and then was
        the contract endpoints' tail.) A cache of 0 reads for every request, feed or not."""
        return KEPT_FRESH_S if self.cache_seconds > 0 and self.kept_fresh() else self.cache_seconds

    def latest(self) -> Snapshot | None:
        """The last good read, whatever its age, without reading (None before the first)."""
        cached = self._cached
        return cached[1] if cached else None

    def read_now(self) -> Snapshot:
        """The summaries read now (the push feed's read after a notification): the cache is
        refreshed for the polling requests too. A failed read answers from the previous one."""
        with self._lock:
            return self._refresh(time.monotonic())

    def _refresh(self, requested: float) -> Snapshot:
        cached, failure = self._cached, self.failure
        if cached and cached[0] >= requested:
            return cached[1]                  # read while this request waited
        if not cached and failure and failure.at >= requested:
            raise DatabaseUnavailable(failure.reason)     # failed while this request waited
        try:
            snapshot = self.read(self._read_snapshot)
        except DatabaseUnavailable as exc:
            self.failure = ReadFailure(str(exc), time.monotonic())
            if not cached:
                raise
            log.warning("reading the summaries failed (%s); answering from the read of %.1f s ago",
                        exc, time.monotonic() - cached[0])
            return cached[1]
        self._cached, self.failure = (time.monotonic(), snapshot), None
        return snapshot

    def _read_snapshot(self, connection) -> Snapshot:
        stats = self._records(connection, "api/country_stats.sql", CountryStats)
        arrivals = {a.hour: a.rows for a in self._records(connection, "api/arrivals_last_24h.sql", Arrivals)}
        sync = {s.source: s for s in self._records(connection, "api/source_health.sql", SourceSync)}
        read_at = self._scalar(connection, "api/read_time.sql")
        return Snapshot(stats, arrivals, sync, read_at, time.monotonic())

    def quarantine_page(self, source: str | None, limit: int, offset: int) -> tuple[int, list[QuarantineEntry]]:
        """Total quarantined values (of one source or all) and one page of them."""
        params = {"source": source, "limit": limit, "offset": offset}
        return self.read(lambda c: (self._scalar(c, "api/quarantine_count.sql", params),
                                    self._records(c, "api/quarantine_page.sql", QuarantineEntry, params)))

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the central DB answers now (never cached)."""
        self.read(lambda c: self._scalar(c, "api/ping.sql"))


def init_app(app: Flask) -> None:
    """Attach a SummaryReader built from the app's settings."""
    settings = app.config["SETTINGS"]
    app.extensions["pisa_reader"] = SummaryReader(settings.api_url(), settings.api_cache_seconds,
                                                  settings.web_threads)


def reader() -> SummaryReader:
    """The current app's SummaryReader."""
    return current_app.extensions["pisa_reader"]
