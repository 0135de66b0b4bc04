"""The responses of one snapshot, built once and shared by both blueprints.

A snapshot is read at most every `PISA_API_CACHE_SECONDS` per process. Each body (a chart, the
summary, the sources) is built and encoded once per snapshot and country filter, whichever
endpoint asks first, so a thousand viewers polling cost one build per body, not one per request.
The ages inside a body are as of its build (at most one cache period old); the age that moves
every request travels in the freshness headers (X-Data-As-Of / X-Data-Age-Ms), brought up to
the moment of each response, 304s included.
"""
from __future__ import annotations

import time

from dashboard import figures
from dashboard.db import Snapshot
from dashboard.responses import encode
from pisa.config import Settings

# Chart name -> its body builder, and whether ?countries= filters it.
CHARTS = {
    "submissions": (lambda snapshot, served, countries: figures.submissions(snapshot, served), False),
    "sot": (lambda snapshot, served, countries: figures.submissions_over_time(snapshot), False),
    "tmins": (figures.learning_hours, True),
    "escs": (figures.escs, True),
    "eeb": (figures.early_education_vs_belonging, True),
}
# Fields that move on every poll: left out of the ETag, refreshed in the freshness headers.
VOLATILE_SOURCE_FIELDS = ("synced_through", "lag_ms", "last_success_at", "poll_ms", "poll_interval_s",
                          "last_reconcile_at", "wal_retained_bytes")


def chart_body(snapshot: Snapshot, served: tuple[str, ...], name: str, countries) -> dict:
    """One chart's body (as the Forage contract fixes it), built once per snapshot and filter."""
    build, filtered = CHARTS[name]
    key = countries if filtered else None
    return snapshot.memoized(("chart", name, key), lambda: build(snapshot, served, key))


def chart(snapshot: Snapshot, served: tuple[str, ...], name: str, countries) -> tuple[str, str]:
    """One chart's encoded body and ETag."""
    key = countries if CHARTS[name][1] else None
    return snapshot.memoized(("chart-json", name, key),
                             lambda: encode(chart_body(snapshot, served, name, countries)))


def health(snapshot: Snapshot, settings: Settings) -> tuple[list[dict], dict, float]:
    """Per-source health, the freshness it gives, and when (monotonic) both were measured."""
    def build():
        sources = figures.source_health(snapshot, settings.sources, settings.lagging_after_seconds)
        return sources, figures.freshness(snapshot, sources), time.monotonic()
    return snapshot.memoized("health", build)


def freshness_now(snapshot: Snapshot, settings: Settings) -> dict:
    """`as_of` and the data's age at this moment (for the freshness headers)."""
    _, fresh, measured = health(snapshot, settings)
    if fresh["age_ms"] is None:
        return fresh
    return {"as_of": fresh["as_of"], "age_ms": fresh["age_ms"] + int((time.monotonic() - measured) * 1000)}


def summary(snapshot: Snapshot, settings: Settings, countries) -> tuple[str, str]:
    """All five charts, freshness and per-source health in one encoded document, and its ETag."""
    def build():
        served = settings.sources
        sources, fresh, _ = health(snapshot, settings)
        charts = {"countries": list(countries or served),
                  **{name: chart_body(snapshot, served, name, countries) for name in CHARTS}}
        counts = {"sources_live": sum(1 for h in sources if h["state"] == "live"), "sources_total": len(sources)}
        return encode({**fresh, **charts, **counts, "sources": sources},
                      etag_basis={**charts, **counts, "sources": _steady(sources)})
    return snapshot.memoized(("summary", countries), build)


def sources(snapshot: Snapshot, settings: Settings) -> tuple[str, str]:
    """Per-source health with freshness, encoded, and its ETag."""
    def build():
        health_list, fresh, _ = health(snapshot, settings)
        return encode({**fresh, "sources": health_list}, etag_basis=_steady(health_list))
    return snapshot.memoized("sources", build)


def _steady(health_list: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k not in VOLATILE_SOURCE_FIELDS} for h in health_list]
