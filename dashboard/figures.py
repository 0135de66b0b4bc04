"""The chart figures and the freshness of a snapshot, exactly as DESIGN section 3 defines them.

Pure functions over a `Snapshot`: O(countries) work, exact `Decimal` means rounded half away from
zero (as SQL's round() does), lists ordered by country code, countries with no rows absent.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dashboard.db import Snapshot

SOT_HOURS = 24
STATS_COLUMNS = ("rows", "escs_sum", "escs_n", "tmins_sum", "tmins_n", "belong_sum", "belong_n",
                 "durecec_sum", "durecec_n")


@dataclass(frozen=True)
class CountryStats:
    """One row of country_stats."""

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


def rounded_mean(total: Decimal, count: int, places: int, divisor: int = 1) -> float | None:
    """total / (count * divisor) rounded half away from zero to `places`; None when count is 0."""
    if not count:
        return None
    mean = Decimal(total) / (count * divisor)
    return float(mean.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)) + 0.0  # no -0.0


def country_stats(snapshot: Snapshot, served: tuple[str, ...],
                  countries: tuple[str, ...] | None = None) -> list[CountryStats]:
    """Served countries with rows (filtered to `countries` when given), ordered by code."""
    wanted = set(countries or served) & set(served)
    return [CountryStats(*row) for row in snapshot.stats if row[0] in wanted]


def submissions(snapshot: Snapshot, served: tuple[str, ...]) -> dict:
    return {"count": sum(c.rows for c in country_stats(snapshot, served))}


def submissions_over_time(snapshot: Snapshot) -> dict:
    """Rows per hour of first arrival, the last 24 hours (UTC), oldest first, empty hours 0."""
    now = snapshot.read_at
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=SOT_HOURS - 1 - i) for i in range(SOT_HOURS)]
    arrivals = {hour.timestamp(): rows for hour, rows in snapshot.arrivals.items()}
    return {"datasets": [{"id": "Submissions", "data": [
        {"x": f"{hour:%H}:00", "y": int(arrivals.get(hour.timestamp(), 0))} for hour in hours]}]}


def learning_hours(snapshot: Snapshot, served, countries) -> dict:
    return {"datasets": [{"country": c.country, "hours": rounded_mean(c.tmins_sum, c.tmins_n, 1, divisor=60)}
                         for c in country_stats(snapshot, served, countries)]}


def escs(snapshot: Snapshot, served, countries) -> dict:
    return {"datasets": [{"id": c.country, "value": rounded_mean(c.escs_sum, c.escs_n, 2)}
                         for c in country_stats(snapshot, served, countries)]}


def early_education_vs_belonging(snapshot: Snapshot, served, countries) -> dict:
    return {"datasets": [{"id": c.country, "data": [{
        "x": rounded_mean(c.durecec_sum, c.durecec_n, 2),
        "y": rounded_mean(c.belong_sum, c.belong_n, 3),
        "submissions": c.rows}]} for c in country_stats(snapshot, served, countries)]}


# -- freshness and health ----------------------------------------------------------------------
def iso(moment: datetime | None) -> str | None:
    """An ISO-8601 UTC time with milliseconds and a Z, or None."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def _age_ms(snapshot: Snapshot, moment: datetime) -> int:
    # Age at this response: at the read (database clock) plus the time since the read.
    return int((snapshot.read_at - moment).total_seconds() * 1000
               + (time.monotonic() - snapshot.read_monotonic) * 1000)


def source_health(snapshot: Snapshot, served: tuple[str, ...], lagging_after_s: float) -> list[dict]:
    """Per served source: rows, last sync, lag, state ('live', 'lagging', 'error', 'pending')."""
    by_source = {row[0]: row for row in snapshot.health}
    health = []
    for source in served:
        (_, rows, synced_through, last_success_at, last_error, last_error_at, poll_ms, interval_s,
         last_reconcile_at, _) = by_source.get(source, (source, 0) + (None,) * 8)
        lag_ms = _age_ms(snapshot, synced_through) if synced_through else None
        if synced_through is None:
            state = "pending"
        elif last_error:
            state = "error"
        elif lag_ms > lagging_after_s * 1000:
            state = "lagging"
        else:
            state = "live"
        health.append({
            "source": source, "rows": rows, "state": state, "synced_through": iso(synced_through),
            "lag_ms": lag_ms, "last_error": last_error, "last_error_at": iso(last_error_at),
            "last_success_at": iso(last_success_at), "last_reconcile_at": iso(last_reconcile_at),
            "poll_ms": round(poll_ms, 2) if poll_ms is not None else None,
            "poll_interval_s": round(interval_s, 3) if interval_s is not None else None,
        })
    return health


def current_freshness(snapshot: Snapshot, served: tuple[str, ...], lagging_after_s: float) -> dict:
    """`freshness` of the snapshot, its age brought up to this moment (health built once)."""
    at_read = snapshot.memoized(("freshness", served), lambda: (
        freshness(snapshot, source_health(snapshot, served, lagging_after_s)),
        time.monotonic()))
    fresh, measured = at_read
    if fresh["age_ms"] is None:
        return fresh
    return {"as_of": fresh["as_of"], "age_ms": fresh["age_ms"] + int((time.monotonic() - measured) * 1000)}


def freshness(snapshot: Snapshot, health: list[dict]) -> dict:
    """`as_of`: the oldest synced_through among healthy sources; `age_ms`: its age now."""
    healthy = [h for h in health if h["state"] in ("live", "lagging")]
    if not healthy:
        return {"as_of": None, "age_ms": None}
    oldest = max(healthy, key=lambda h: h["lag_ms"])
    return {"as_of": oldest["synced_through"], "age_ms": oldest["lag_ms"]}
