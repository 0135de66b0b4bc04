"""The versioned API: one summary of every chart, source health, quarantine, OpenAPI, health."""
from __future__ import annotations

import logging
from dataclasses import asdict

from flask import Blueprint, current_app, request

from dashboard import figures, views
from dashboard.db import reader
from dashboard.errors import error_response
from dashboard.openapi import openapi_document
from dashboard.params import LIMIT, OFFSET, parse_countries, parse_int, parse_source
from dashboard.responses import encoded_response, json_response

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)

SUMMARIES_FAILING = ("the central database answers, but reading the summaries is failing; "
                     "the figures served are from the last good read")

log = logging.getLogger(__name__)


@bp.get("/summary")
def summary():
    """All five charts in one document, with freshness and per-source health."""
    settings = current_app.config["SETTINGS"]
    countries = parse_countries(request, settings.sources)
    snapshot = reader().snapshot()
    return encoded_response(*views.summary(snapshot, settings, countries), views.freshness_now(snapshot, settings))


@bp.get("/sources")
def sources():
    """Per source: rows, synced_through, lag, state and last error."""
    settings = current_app.config["SETTINGS"]
    snapshot = reader().snapshot()
    return encoded_response(*views.sources(snapshot, settings), views.freshness_now(snapshot, settings))


@bp.get("/quarantine")
def quarantine():
    """Malformed values of present rows, newest first, paginated (`limit`, `offset`, `source`)."""
    settings = current_app.config["SETTINGS"]
    source = parse_source(request, settings.sources)
    limit = parse_int(request, LIMIT)
    offset = parse_int(request, OFFSET)
    fresh = views.freshness_now(reader().snapshot(), settings)
    total, entries = reader().quarantine_page(source, limit, offset)
    items = [{**asdict(entry), "seen_at": figures.iso(entry.seen_at)} for entry in entries]
    page = {"total": total, "limit": limit, "offset": offset, "items": items}
    return json_response({**fresh, **page}, fresh, etag_basis=page)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return json_response(openapi_document(current_app.config["SETTINGS"].sources), {})


@health_bp.get("/healthz")
def healthz():
    """200 when the central database answers now and the summaries can be read; a 503 in the
    error shape when not (the database is asked every time)."""
    summaries = reader()
    summaries.ping()
    summaries.snapshot()
    if summaries.failure:                   # answering from an older read: say so
        log.warning("healthz: the summaries' last read failed: %s", summaries.failure.reason)
        return error_response(SUMMARIES_FAILING, 503)
    return json_response({"status": "ok"}, {})
