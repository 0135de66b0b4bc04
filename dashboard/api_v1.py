"""The versioned API: one summary of every chart, source health, quarantine, OpenAPI, health."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard import figures
from dashboard.db import DatabaseUnavailable, reader
from dashboard.openapi import openapi_document
from dashboard.params import parse_countries, parse_int, parse_source
from dashboard.responses import json_response

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)

# Fields that move on every poll: left out of the ETag, refreshed in the freshness headers.
VOLATILE_SOURCE_FIELDS = ("synced_through", "lag_ms", "last_success_at", "poll_ms", "poll_interval_s",
                          "last_reconcile_at")
QUARANTINE_PAGE_MAX = 500


def _steady(health: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k not in VOLATILE_SOURCE_FIELDS} for h in health]


def _read():
    """The (cached) snapshot, per-source health and freshness."""
    settings = current_app.config["SETTINGS"]
    snapshot = reader().snapshot()
    health = figures.source_health(snapshot, settings.sources, settings.lagging_after_seconds)
    return snapshot, health, figures.freshness(snapshot, health)


@bp.get("/summary")
def summary():
    """All five charts in one document, with freshness and per-source health."""
    served = current_app.config["SETTINGS"].sources
    countries = parse_countries(request, served)
    snapshot, health, fresh = _read()
    charts = {
        "countries": list(countries or served),
        "submissions": figures.submissions(snapshot, served),
        "sot": figures.submissions_over_time(snapshot),
        "tmins": figures.learning_hours(snapshot, served, countries),
        "escs": figures.escs(snapshot, served, countries),
        "eeb": figures.early_education_vs_belonging(snapshot, served, countries),
    }
    live = sum(1 for h in health if h["state"] == "live")
    sources = {"sources_live": live, "sources_total": len(health)}
    body = {**fresh, **charts, **sources, "sources": health}
    return json_response(body, fresh, etag_basis={**charts, **sources, "sources": _steady(health)})


@bp.get("/sources")
def sources():
    """Per source: rows, synced_through, lag, state and last error."""
    _, health, fresh = _read()
    return json_response({**fresh, "sources": health}, fresh, etag_basis=_steady(health))


@bp.get("/quarantine")
def quarantine():
    """Malformed values of present rows, newest first, paginated (`limit`, `offset`, `source`)."""
    settings = current_app.config["SETTINGS"]
    source = parse_source(request, settings.sources)
    limit = parse_int(request, "limit", 50, 1, QUARANTINE_PAGE_MAX)
    offset = parse_int(request, "offset", 0, 0, 10**9)
    _, _, fresh = _read()
    total, rows = reader().quarantine_page(source, limit, offset)
    items = [{"source": s, "id": i, "column": c, "raw_value": raw, "reason": reason,
              "seen_at": figures.iso(seen_at)} for s, i, c, raw, reason, seen_at in rows]
    page = {"total": total, "limit": limit, "offset": offset, "items": items}
    return json_response({**fresh, **page}, fresh, etag_basis=page)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return json_response(openapi_document(), {})


@health_bp.get("/healthz")
def healthz():
    """200 when the central database answers now, 503 when not (never cached)."""
    try:
        reader().ping()
    except DatabaseUnavailable as exc:
        response = jsonify({"status": "unavailable", "message": f"central database: {exc}"})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    return json_response({"status": "ok"}, {})
