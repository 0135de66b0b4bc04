"""The API's one way to the central DB: a SQLAlchemy engine pool over psycopg2, read-only role.

`pool_pre_ping` checks a pooled connection before use, so a restarted database heals by itself.
Reads of the summaries are cached for `api_cache_seconds`: a thousand viewers polling every
second cost a handful of queries per second per process, not thousands.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError

from dashboard.records import Arrivals, CountryStats, QuarantineEntry, SourceSync, records
from pisa.db import first_line, load_sql

POOL_SIZE = 4
POOL_TIMEOUT_S = 2
STALE_LIMIT_FACTOR = 5     # a read older than 5 cache periods is never served while refreshing


class DatabaseUnavailable(Exception):
    """The central database did not answer; the API turns this into a 503."""


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

    def __init__(self, url: str, cache_seconds: float):
        self.engine = create_engine(
            make_url(url).set(drivername="postgresql+psycopg2"),
            connect_args={"connect_timeout": 3, "application_name": "pisa-api",
                          # UTC whatever the server's setting (an RDS parameter group may set
                          # another): every hour bucket and time in the API is UTC.
                          "options": "-c statement_timeout=5s -c timezone=UTC"},
            pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_timeout=POOL_TIMEOUT_S,
            pool_pre_ping=True, isolation_level="REPEATABLE READ")
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, Snapshot] | None = None
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
        """Run `work(connection)` in one read-only transaction; database errors become 503s."""
        try:
            with self.engine.connect() as connection:
                with connection.begin():
                    return work(connection)
        except DBAPIError as exc:
            raise DatabaseUnavailable(first_line(exc.orig or exc)) from exc

    def snapshot(self) -> Snapshot:
        """The summaries, read at most once per `cache_seconds` per process.

        When the cached read expires, one thread refreshes it while the others keep answering
        from the previous read (at most one refresh older), so no request queues behind the
        database; only with nothing usable cached does a request wait for the read.
        """
        cached = self._cached
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        usable = cached and time.monotonic() - cached[0] < STALE_LIMIT_FACTOR * max(self.cache_seconds, 0.1)
        if not self._lock.acquire(blocking=not usable):
            return cached[1]                  # another thread is refreshing
        try:
            cached = self._cached
            if cached and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
            snapshot = self.read(self._read_snapshot)
            self._cached = (time.monotonic(), snapshot)
            return snapshot
        finally:
            self._lock.release()

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
    app.extensions["pisa_reader"] = SummaryReader(settings.api_url(), settings.api_cache_seconds)


def reader() -> SummaryReader:
    """The current app's SummaryReader."""
    return current_app.extensions["pisa_reader"]
