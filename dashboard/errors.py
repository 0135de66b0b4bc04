"""One error shape for the whole API: {"error": {"status": 400, "message": "..."}}.

`ApiError(message, status)` is the one exception views raise; every other failure (unknown path,
wrong method, database down, a bug) is turned into the same shape, never a stack trace.
"""
from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from dashboard.db import DatabaseUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses, with the HTTP status and a message for the caller."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def error_response(message: str, status: int) -> Response:
    """The JSON error body, with its status."""
    body = json.dumps({"error": {"status": status, "message": message}})
    return Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Register the handlers that give every failure the one error shape."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.message, exc.status)

    @app.errorhandler(DatabaseUnavailable)
    def _database_down(exc: DatabaseUnavailable):
        log.warning("central database unavailable: %s", exc)
        return error_response("the central database is not answering; retry shortly", 503)

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
