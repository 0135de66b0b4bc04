"""The OpenAPI 3.1 document of the API. Its schemas are JSON Schema: the tests validate every
real response against them, so the document cannot drift from what the API sends, and schemathesis
fuzzes the app against the whole document (tests/test_schemathesis.py). The query parameters' schemas
come from dashboard/params.py, the rules the server parses by, for the served countries."""
from __future__ import annotations

from functools import cache
from typing import NamedTuple

from dashboard.params import LIMIT, MAX_COUNTRIES_TEXT, OFFSET, IntParam, countries_pattern, source_pattern

NUMBER_OR_NULL = {"type": ["number", "null"]}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
FRESHNESS = {
    "as_of": {**TIME_OR_NULL, "description": "Oldest synced_through among healthy sources."},
    "age_ms": {"type": ["integer", "null"], "description": "Age of as_of when this response was made."},
}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties),
            "additionalProperties": False}


SCHEMAS = {
    "Error": _object({"error": _object({"status": {"type": "integer"}, "message": {"type": "string"}})}),
    "Submissions": _object({"count": {"type": "integer", "minimum": 0}}),
    "SubmissionsOverTime": _object({"datasets": {"type": "array", "minItems": 1, "maxItems": 1, "items": _object({
        "id": {"const": "Submissions"},
        "data": {"type": "array", "minItems": 24, "maxItems": 24, "items": _object({
            "x": {"type": "string", "pattern": "^[0-2][0-9]:00$"}, "y": {"type": "integer", "minimum": 0}})}})}}),
    "LearningHours": _object({"datasets": {"type": "array", "items": _object({
        "country": {"type": "string", "pattern": "^[A-Z]{3}$"}, "hours": NUMBER_OR_NULL})}}),
    "Escs": _object({"datasets": {"type": "array", "items": _object({
        "id": {"type": "string", "pattern": "^[A-Z]{3}$"}, "value": NUMBER_OR_NULL})}}),
    "EarlyEducationVsBelonging": _object({"datasets": {"type": "array", "items": _object({
        "id": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "data": {"type": "array", "minItems": 1, "maxItems": 1, "items": _object({
            "x": NUMBER_OR_NULL, "y": NUMBER_OR_NULL, "submissions": {"type": "integer", "minimum": 0}})}})}}),
    "SourceHealth": _object({
        "source": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "rows": {"type": "integer", "minimum": 0},
        "state": {"enum": ["live", "lagging", "error", "pending"]},
        "synced_through": TIME_OR_NULL,
        "lag_ms": {"type": ["integer", "null"]},
        "last_error": {"type": ["string", "null"]},
        "last_error_at": TIME_OR_NULL,
        "last_success_at": TIME_OR_NULL,
        "last_reconcile_at": TIME_OR_NULL,
        "poll_ms": NUMBER_OR_NULL,
        "poll_interval_s": NUMBER_OR_NULL,
        "capture": {"enum": ["wal", "xmin", None],
                    "description": "How the sync finds this source's changes: wal (logical replication) or "
                                   "xmin (polling); null until its first sync."},
        "capture_note": {"type": ["string", "null"],
                         "description": "Why xmin when wal was wanted (PISA_CAPTURE=auto), or why the source "
                                        "last resynced from a new replication slot."},
        "replication_slot": {"type": ["string", "null"]},
        "wal_retained_bytes": {"type": ["integer", "null"], "minimum": 0,
                               "description": "WAL the source keeps for this source's replication slot."},
    }),
    "Summary": _object({
        **FRESHNESS,
        "countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "submissions": {"$ref": "#/components/schemas/Submissions"},
        "sot": {"$ref": "#/components/schemas/SubmissionsOverTime"},
        "tmins": {"$ref": "#/components/schemas/LearningHours"},
        "escs": {"$ref": "#/components/schemas/Escs"},
        "eeb": {"$ref": "#/components/schemas/EarlyEducationVsBelonging"},
        "sources_live": {"type": "integer", "minimum": 0},
        "sources_total": {"type": "integer", "minimum": 0},
        "sources": {"type": "array", "items": {"$ref": "#/components/schemas/SourceHealth"}},
    }),
    "Sources": _object({**FRESHNESS, "sources": {"type": "array", "items": {"$ref": "#/components/schemas/SourceHealth"}}}),
    "QuarantinePage": _object({
        **FRESHNESS,
        "total": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
        "offset": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": _object({
            "source": {"type": "string"}, "id": {"type": "integer"}, "column": {"type": "string"},
            "raw_value": {"type": ["string", "null"]}, "reason": {"type": "string"},
            "seen_at": {"type": "string", "format": "date-time"}})},
    }),
    # One Server-Sent Event of /api/v1/stream, as a client reads it (OpenAPI 3.1: the schema of a
    # text/event-stream describes each event); `data` is JSON text.
    "StreamEvent": {"oneOf": [
        _object({"event": {"const": "summary"},
                 "id": {"type": "string", "pattern": "^[0-9a-f]+$", "description": "The summary's ETag tag."},
                 "data": {"type": "string", "contentMediaType": "application/json",
                          "contentSchema": {"$ref": "#/components/schemas/Summary"}},
                 "retry": {"type": "integer"}}, ["event", "id", "data"]),
        _object({"event": {"const": "freshness"},
                 "data": {"type": "string", "contentMediaType": "application/json",
                          "contentSchema": _object(FRESHNESS)},
                 "id": {"type": "string"}, "retry": {"type": "integer"}}, ["event", "data"]),
    ]},
    "Health": _object({"status": {"enum": ["ok", "unavailable"]}, "message": {"type": "string"}}, ["status"]),
    "Document": {"type": "object", "required": ["openapi", "info", "paths", "components"]},
}


class Route(NamedTuple):
    """One documented GET: what it answers, its parameters, its kind of ETag, whether it reads the database."""

    summary: str
    schema: str
    parameters: tuple = ()
    weak_etag: bool = False
    reads_database: bool = True


PATHS = {
    "/submissions": Route("Rows across all sources (big number chart).", "Submissions"),
    "/sot": Route("Rows per hour of first arrival, last 24 hours, UTC (line chart).", "SubmissionsOverTime"),
    "/tmins": Route("Mean learning hours per week by country (bar chart).", "LearningHours", ("countries",)),
    "/escs": Route("Mean ESCS by country (choropleth).", "Escs", ("countries",)),
    "/eeb": Route("Mean early education (x) vs sense of belonging (y), sized by rows (bubbles).",
                  "EarlyEducationVsBelonging", ("countries",)),
    "/api/v1/summary": Route("All five charts, freshness and per-source health in one document.", "Summary",
                             ("countries",), weak_etag=True),
    "/api/v1/sources": Route("Per source: rows, last sync, lag, state, last error.", "Sources", weak_etag=True),
    "/api/v1/quarantine": Route("Malformed source values with reasons, newest first.", "QuarantinePage",
                                ("source", LIMIT, OFFSET), weak_etag=True),
    "/healthz": Route("200 when the central database answers, 503 when not.", "Health"),
    "/api/v1/openapi.json": Route("This document.", "Document", reads_database=False),
}
STREAM_PATH = "/api/v1/stream"
STREAM_DESCRIPTION = (
    "Server-Sent Events (`text/event-stream`). First `retry: 1000`, then an event `summary` whose data is "
    "the `Summary` document for the same `countries` and whose `id` is that document's ETag tag; then one "
    "`summary` event each time the figures or the source states change (pushed when the sync commits), "
    "a `freshness` event (`{\"as_of\": ..., \"age_ms\": ...}`) when only the data's age moved (at most "
    "once a second), and a comment line with the data's age every 15 s. Send `Last-Event-ID` when "
    "reconnecting: the current summary is sent only if it differs from the one with that id. The server "
    "ends a stream after PISA_STREAM_MAX_SECONDS or when its worker stops; reconnect after `retry`.")

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
STRONG_ETAG = {"description": "Changes whenever the body does.", "schema": {"type": "string", "pattern": '^"[^"]*"$'}}
WEAK_ETAG = {"description": "A weak validator: it changes with the figures and states, not with the ages and lags "
                            "(`as_of`, `age_ms`, `lag_ms`) that move every poll; a 304 means the same figures. "
                            "If-Match compares strongly: a weak ETag never matches it (412).",
             "schema": {"type": "string", "pattern": '^W/"[^"]*"$'}}
FRESHNESS_HEADERS = {
    "X-Data-As-Of": {"description": "`as_of` of the data (absent before the first sync).",
                     "schema": {"type": "string", "format": "date-time"}},
    "X-Data-Age-Ms": {"description": "Its age when this response was made.", "schema": {"type": "integer"}},
}
RESPONSES = {
    "BadRequest": {"description": "A malformed query parameter; the message names it.", "content": ERROR},
    "NotFound": {"description": "Any path not in this document.", "content": ERROR},
    "MethodNotAllowed": {"description": "Any method but GET, HEAD and OPTIONS (CORS).", "content": ERROR,
                         "headers": {"Allow": {"schema": {"type": "string"}}}},
    "UriTooLong": {"description": "A request line too long for the server.", "content": ERROR},
    "Unavailable": {"description": "The central database is not answering (or too slowly); retry after the "
                                   "given seconds.", "content": ERROR,
                    "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0}}}},
}


def _parameter(param: str | IntParam, served: tuple[str, ...]) -> dict:
    """One query parameter, from the rules dashboard/params.py parses it by."""
    if isinstance(param, IntParam):
        return {"name": param.name, "in": "query", "required": False,
                "description": f"{param.description} Given empty it is a 400.",
                "schema": {"type": "integer", "minimum": param.low, "maximum": param.high,
                           "default": param.default}}
    if param == "countries":
        return {"name": "countries", "in": "query", "required": False,
                "description": "Comma-separated served codes, case-insensitive; spaces around a code and empty "
                               "segments are ignored; absent or empty means all.",
                "schema": {"type": "string", "maxLength": MAX_COUNTRIES_TEXT, "pattern": countries_pattern(served)},
                "example": ",".join(served[:2])}
    return {"name": "source", "in": "query", "required": False,
            "description": "One served code, case-insensitive; absent means all.",
            "schema": {"type": "string", "pattern": source_pattern(served)}, "example": served[0]}


def _operation(route: Route, served: tuple[str, ...]) -> dict:
    headers = {"ETag": WEAK_ETAG if route.weak_etag else STRONG_ETAG, **FRESHNESS_HEADERS}
    parameters = [_parameter(p, served) for p in route.parameters]
    responses = {
        "200": {"description": "OK", "headers": headers,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.schema}"}}}},
        "304": {"description": "Not modified since the ETag in If-None-Match.", "headers": headers},
        **({"400": {"$ref": "#/components/responses/BadRequest"}} if parameters else {}),
        "404": {"$ref": "#/components/responses/NotFound"},
        "405": {"$ref": "#/components/responses/MethodNotAllowed"},
        "414": {"$ref": "#/components/responses/UriTooLong"},
        **({"503": {"$ref": "#/components/responses/Unavailable"}} if route.reads_database else {}),
    }
    return {"get": {"summary": route.summary, "parameters": parameters, "responses": responses}}


def _stream_operation(served: tuple[str, ...]) -> dict:
    # The Summary schema documents each summary event's data; the events themselves are text.
    operation = _operation(Route("The summary, pushed as Server-Sent Events.", "Summary", ("countries",)), served)
    operation["get"]["description"] = STREAM_DESCRIPTION
    operation["get"]["responses"]["200"] = {
        "description": "An event stream; each `summary` event's data is a `Summary` document.",
        "headers": {"Cache-Control": {"schema": {"const": "no-cache"}},
                    "X-Accel-Buffering": {"description": "Tells a proxy (nginx) not to buffer the events.",
                                          "schema": {"const": "no"}}},
        "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEvent"}}}}
    del operation["get"]["responses"]["304"]
    return operation


@cache
def openapi_document(served: tuple[str, ...]) -> dict:
    """The whole OpenAPI document for an API serving these countries."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Live PISA dashboard API", "version": "1.0.0",
                 "description": "Exact, pre-aggregated PISA 2018 figures from 20 country sources, "
                                "synced within a second. Every JSON response carries an ETag (a weak one on "
                                "/api/v1/summary, /api/v1/sources and /api/v1/quarantine, whose ages move every "
                                "poll); If-None-Match "
                                "gets a bodiless 304. Every error, whatever the path or method, is "
                                '{"error": {"status": ..., "message": ...}}.'},
        "paths": {**{path: _operation(route, served) for path, route in PATHS.items()},
                  STREAM_PATH: _stream_operation(served)},
        "components": {"schemas": SCHEMAS, "responses": RESPONSES},
    }
