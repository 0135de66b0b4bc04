"""The chart figures and the freshness of a snapshot, exactly as DESIGN section 3 defines them.

Pure functions over a `Snapshot`: O(countries) work, exact `Decimal` means rounded half away from
zero (as SQL's round() does), lists ordered by country code, countries with no rows absent.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from dashboard.db import Snapshot
from dashboard.records import CountryStats, SourceSync

SOT_HOURS = 24


def rounded_mean(total: Decimal, count: int, places: int, divisor: int = 1) -> float | None:
    """total / (count * divisor) rounded half away from zero to `places`; None when count is 0.

    Exact to the final rounding: in integers, not in Decimal's 28-digit context, which rounded
    2.4449999999999999999999999999999 to 2.445 first and then to 2.45 (SQL says 2.44)."""
    if not count:
        return None
    numerator, denominator = Decimal(total).as_integer_ratio()
    scaled, remainder = divmod(abs(numerator) * 10**places, denominator * count * divisor)
    if 2 * remainder >= denominator * count * divisor:
        scaled += 1
    mean = Decimal(scaled if numerator >= 0 else -scaled).scaleb(-places)
    return float(mean) + 0.0      # no -0.0


def country_stats(snapshot: Snapshot, served: tuple[str, ...],
                  countries: tuple[str, ...] | None = None) -> list[CountryStats]:
    """Served countries with rows (filtered to `countries` when given), ordered by code."""
    wanted = set(countries or served) & set(served)
    return [c for c in snapshot.stats if c.country in wanted]


def submissions(snapshot: Snapshot, served: tuple[str, ...]) -> dict:
    """/submissions: rows across all served sources."""
    return {"count": sum(c.rows for c in country_stats(snapshot, served))}


def submissions_over_time(snapshot: Snapshot) -> dict:
    """Rows per hour of first arrival, the last 24 hours (UTC), oldest first, empty hours 0."""
    now = snapshot.read_at.astimezone(timezone.utc)
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=SOT_HOURS - 1 - i) for i in range(SOT_HOURS)]
    arrivals = {hour.timestamp(): rows for hour, rows in snapshot.arrivals.items()}
    return {"datasets": [{"id": "Submissions", "data": [
        {"x": f"{hour:%H}:00", "y": int(arrivals.get(hour.timestamp(), 0))} for hour in hours]}]}


def learning_hours(snapshot: Snapshot, served, countries) -> dict:
    """/tmins: mean TMINS / 60 by country, 1 dp."""
    return {"datasets": [{"country": c.country, "hours": rounded_mean(c.tmins_sum, c.tmins_n, 1, divisor=60)}
                         for c in country_stats(snapshot, served, countries)]}


def escs(snapshot: Snapshot, served, countries) -> dict:
    """/escs: mean ESCS by country, 2 dp."""
    return {"datasets": [{"id": c.country, "value": rounded_mean(c.escs_sum, c.escs_n, 2)}
                         for c in country_stats(snapshot, served, countries)]}


def early_education_vs_belonging(snapshot: Snapshot, served, countries) -> dict:
    """/eeb: mean DURECEC (x, 2 dp) and mean BELONG (y, 3 dp) by country, with its rows."""
    return {"datasets": [{"id": c.country, "data": [{
        "x": rounded_mean(c.durecec_sum, c.durecec_n, 2),
        "y": rounded_mean(c.belong_sum, c.belong_n, 3),
        "submissions": c.rows}]} for c in country_stats(snapshot, served, countries)]}


# -- freshness and health ----------------------------------------------------------------------
def iso(moment: datetime | None) -> str | None:
    """An ISO-8601 UTC time with milliseconds and a Z, or None."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _age_ms(snapshot: Snapshot, moment: datetime) -> int:
    # Age at this response: at the read (database clock) plus the time since the read.
    return int((snapshot.read_at - moment).total_seconds() * 1000
               + (time.monotonic() - snapshot.read_monotonic) * 1000)


def source_health(snapshot: Snapshot, served: tuple[str, ...], lagging_after_s: float) -> list[dict]:
    """Per served source: rows, last sync, lag, state ('live', 'lagging', 'error', 'pending')."""
    health = []
    for source in served:
        sync = snapshot.sync.get(source) or SourceSync(source)
        lag_ms = _age_ms(snapshot, sync.synced_through) if sync.synced_through else None
        if sync.synced_through is None:
            state = "pending"
        elif sync.last_error:
            state = "error"
        elif lag_ms > lagging_after_s * 1000:
            state = "lagging"
        else:
            state = "live"
        health.append({
            "source": source, "rows": sync.rows, "state": state, "synced_through": iso(sync.synced_through),
            "lag_ms": lag_ms, "last_error": sync.last_error, "last_error_at": iso(sync.last_error_at),
            "last_success_at": iso(sync.last_success_at), "last_reconcile_at": iso(sync.last_reconcile_at),
            "poll_ms": round(sync.poll_ms, 2) if sync.poll_ms is not None else None,
            "poll_interval_s": round(sync.poll_interval_s, 3) if sync.poll_interval_s is not None else None,
            "capture": sync.capture, "capture_note": sync.capture_note,
            "replication_slot": sync.replication_slot, "wal_retained_bytes": sync.wal_retained_bytes,
        })
    return health


def freshness(snapshot: Snapshot, health: list[dict]) -> dict:
    """`as_of`: the oldest synced_through among healthy sources; `age_ms`: its age as the
    health was measured."""
    healthy = [h for h in health if h["state"] in ("live", "lagging")]
    if not healthy:
        return {"as_of": None, "age_ms": None}
    # By the time itself (ISO text in one format sorts as time): two lags in whole ms may tie.
    oldest = min(healthy, key=lambda h: h["synced_through"])
    return {"as_of": oldest["synced_through"], "age_ms": oldest["lag_ms"]}
