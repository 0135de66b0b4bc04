"""The OpenAPI 3.1 document of the API. Its schemas are JSON Schema: the tests validate every
real response against them, so the document cannot drift from what the API sends."""
from __future__ import annotations

from functools import cache

NUMBER_OR_NULL = {"type": ["number", "null"]}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
COUNTRIES_PARAM = {
    "name": "countries", "in": "query", "required": False,
    "description": "Comma-separated alpha-3 codes, case-insensitive; absent or empty means all.",
    "schema": {"type": "string"}, "example": "ALB,ARG",
}
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
    "Health": _object({"status": {"enum": ["ok", "unavailable"]}, "message": {"type": "string"}}, ["status"]),
}

# path -> (summary, response schema, takes ?countries=, extra parameters)
PATHS = {
    "/submissions": ("Rows across all sources (big number chart).", "Submissions", False, []),
    "/sot": ("Rows per hour of first arrival, last 24 hours, UTC (line chart).", "SubmissionsOverTime", False, []),
    "/tmins": ("Mean learning hours per week by country (bar chart).", "LearningHours", True, []),
    "/escs": ("Mean ESCS by country (choropleth).", "Escs", True, []),
    "/eeb": ("Mean early education (x) vs sense of belonging (y), sized by rows (bubbles).",
             "EarlyEducationVsBelonging", True, []),
    "/api/v1/summary": ("All five charts, freshness and per-source health in one document.", "Summary", True, []),
    "/api/v1/sources": ("Per source: rows, last sync, lag, state, last error.", "Sources", False, []),
    "/api/v1/quarantine": ("Malformed source values with reasons, newest first.", "QuarantinePage", False, [
        {"name": "source", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
    ]),
    "/healthz": ("200 when the central database answers, 503 when not.", "Health", False, []),
}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _operation(summary: str, schema: str, filtered: bool, extra: list[dict]) -> dict:
    ok = {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
          "headers": {"ETag": {"schema": {"type": "string"}},
                      "X-Data-As-Of": {"schema": {"type": "string", "format": "date-time"}},
                      "X-Data-Age-Ms": {"schema": {"type": "integer"}}}}
    responses = {"200": ok, "304": {"description": "Not modified since the ETag in If-None-Match."},
                 "400": _error("A malformed query parameter; the message names it."),
                 "503": _error("The central database is not answering.")}
    if schema == "Health":
        responses = {"200": {"description": "OK", "content": ok["content"]},
                     "503": {"description": "Unavailable", "content": ok["content"]}}
    return {"get": {"summary": summary, "parameters": ([COUNTRIES_PARAM] if filtered else []) + extra,
                    "responses": responses}}


@cache
def openapi_document() -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Live PISA dashboard API", "version": "1.0.0",
                 "description": "Exact, pre-aggregated PISA 2018 figures from 20 country sources, "
                                "synced within a second. Every JSON response carries an ETag."},
        "paths": {path: _operation(*spec) for path, spec in PATHS.items()} | {
            "/api/v1/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OK"}}}}},
        "components": {"schemas": SCHEMAS},
    }
