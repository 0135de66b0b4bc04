"""Named records of what the API reads: one class per `sql/api` query, built by column name.

`check_columns(cls, columns)` fails loudly when a query's columns and a record's fields disagree
(a missing, extra or repeated column), instead of shifting values into the wrong fields as reading
by position would; `records(cls, result)` checks a result's columns once, then builds every row by
name.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Iterable, Mapping


@cache
def field_names(cls) -> frozenset[str]:
    """The field names of the record class `cls`."""
    return frozenset(f.name for f in fields(cls))


def check_columns(cls, columns: Iterable[str]) -> None:
    """Raise TypeError unless `columns` are exactly the fields of `cls`, each once."""
    columns = list(columns)
    if len(columns) != len(set(columns)) or set(columns) != field_names(cls):
        raise TypeError(f"{cls.__name__}: the query returned columns {sorted(columns)}, "
                        f"the record has fields {sorted(field_names(cls))}")


def record(cls, row: Mapping):
    """An instance of the record class `cls` from a row mapping with exactly its fields."""
    check_columns(cls, row.keys())
    return cls(**row)


def records(cls, result) -> list:
    """Every row of a SQLAlchemy `result` as a `cls` record, by column name (columns checked once)."""
    check_columns(cls, result.keys())
    return [cls(**row) for row in result.mappings()]


@dataclass(frozen=True)
class CountryStats:
    """One country's pre-aggregated sums and present-counts (sql/api/country_stats.sql)."""

    country: str
    rows: int
    escs_sum: Decimal
    escs_n: int
    tmins_sum: Decimal
    tmins_n: int
    belong_sum: Decimal
    belong_n: int
    durecec_sum: Decimal
    durecec_n: int


@dataclass(frozen=True)
class SourceSync:
    """Where one source's sync stands (sql/api/source_health.sql); defaults: never synced."""

    source: str
    rows: int = 0
    synced_through: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    poll_ms: float | None = None
    poll_interval_s: float | None = None
    last_reconcile_at: datetime | None = None
    capture: str | None = None
    capture_note: str | None = None
    replication_slot: str | None = None
    wal_retained_bytes: int | None = None


@dataclass(frozen=True)
class Arrivals:
    """Rows first seen in one hour (sql/api/arrivals_last_24h.sql)."""

    hour: datetime
    rows: int


@dataclass(frozen=True)
class QuarantineEntry:
    """One malformed value of a present row (sql/api/quarantine_page.sql)."""

    source: str
    id: int
    column: str
    raw_value: str | None
    reason: str
    seen_at: datetime
