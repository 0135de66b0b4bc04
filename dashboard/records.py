"""Named records of what the API reads: one class per `sql/api` query, built by column name.

`record(cls, row)` fails loudly when a query's columns and a record's fields disagree, instead of
shifting values into the wrong fields as reading by position would.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Mapping


def record(cls, row: Mapping):
    """An instance of the record class `cls` from a row mapping with exactly its fields."""
    expected = {f.name for f in fields(cls)}
    if set(row) != expected:
        raise TypeError(f"{cls.__name__}: the query returned columns {sorted(row)}, "
                        f"the record has fields {sorted(expected)}")
    return cls(**row)


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
