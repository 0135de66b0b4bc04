"""One error shape for the whole API: {"error": {"status": 400, "message": "..."}}.

`ApiError(message, status)` is the one exception views raise; every other failure (unknown path,
wrong method, database down, a bug) is turned into the same shape, never a stack trace.
"""
from __future__ import annotations

import json
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from dashboard.db import RETRY_AFTER_S, DatabaseUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses, with the HTTP status and a message for the caller."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


DATABASE_DOWN = "the central database is not answering; retry shortly"
MAX_QUERY_BYTES = 2048      # far beyond any valid query (20 country codes); gunicorn's own limit is 8190


def error_response(message: str, status: int) -> Response:
    """The JSON error body, with its status; a 503 says when to retry."""
    body = json.dumps({"error": {"status": status, "message": message}})
    headers = {"Cache-Control": "no-store"}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return Response(body, status=status, mimetype="application/json", headers=headers)


def database_unavailable(exc: DatabaseUnavailable) -> Response:
    """The 503 for a central database that failed: the details (host, database, the driver's
    words) go to the log for the operator, not to the caller."""
    log.warning("central database unavailable: %s", exc)
    return error_response(DATABASE_DOWN, 503)


def init_app(app: Flask) -> None:
    """Register the handlers that give every failure the one error shape."""

    @app.before_request
    def _bounded_query():
        if len(request.query_string) > MAX_QUERY_BYTES:
            return error_response(f"the query string is longer than {MAX_QUERY_BYTES} bytes", 414)
        return None

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.message, exc.status)

    app.register_error_handler(DatabaseUnavailable, database_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response = error_response(exc.description or exc.name, exc.code or 500)
        if exc.code == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response("internal error; it has been logged", 500)
