"""Repeat answers: a poll that Flask has already answered for this snapshot is answered again
without Flask.

Two hundred Forage viewers polling five charts a second are a thousand requests a second, nearly
all the same few questions about the same snapshot. Flask's routing, request context, CORS and
conditional handling cost about 0.1 ms a request here, beside the streams on the same two cores.
This WSGI middleware records, per snapshot, the status, headers and body Flask gave to each
variant of a hot poll (path, Origin, and If-None-Match when it named that answer's own ETag) and
replays them to the next request of that variant, with the data's age brought up to the moment
(X-Data-Age-Ms, as every answer has). The next read of the summaries is a new snapshot and
starts empty, so figures are never older than Flask's own answers.
Anything else (a query string, HEAD, other conditional headers, an error, a path not listed)
goes to Flask, which stays the one place that decides what an answer is.
"""
from __future__ import annotations

from flask import Flask

from dashboard import views

# The polled, snapshot-backed answers: the five Forage charts and the page's polled summary.
PATHS = frozenset({"/submissions", "/sot", "/tmins", "/escs", "/eeb", "/api/v1/summary"})
# Request headers whose presence makes an answer depend on more than the variant key.
UNREPEATABLE = ("HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE",
                "HTTP_RANGE")
MAX_VARIANTS = 256           # per snapshot: Origin is the client's to choose
AGE_HEADER = "X-Data-Age-Ms"
REPLAYABLE_STATUS = ("200 OK", "304 NOT MODIFIED")


class RepeatAnswers:
    """WSGI middleware over a dashboard app (`RepeatAnswers.install(app)`)."""

    def __init__(self, app: Flask):
        self.flask_wsgi = app.wsgi_app
        self.reader = app.extensions["pisa_reader"]
        self.settings = app.config["SETTINGS"]

    @classmethod
    def install(cls, app: Flask) -> None:
        app.wsgi_app = cls(app)

    def __call__(self, environ, start_response):
        variant = self._variant(environ)
        snapshot = self._snapshot() if variant else None
        if snapshot is None:
            return self.flask_wsgi(environ, start_response)
        recorded = snapshot.memo.get(variant)
        if recorded is None:
            return self._record(snapshot, variant, environ, start_response)
        status, headers, body, aged = recorded
        if aged:
            headers = headers + [(AGE_HEADER, str(views.freshness_now(snapshot, self.settings)["age_ms"]))]
        start_response(status, headers)
        return [body]

    @staticmethod
    def _variant(environ) -> tuple | None:
        """The key of a repeatable request, or None to let Flask answer it."""
        if (environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING")
                or environ.get("PATH_INFO") not in PATHS or any(h in environ for h in UNREPEATABLE)):
            return None
        return ("repeat", environ["PATH_INFO"], environ.get("HTTP_ORIGIN"), environ.get("HTTP_IF_NONE_MATCH"))

    def _snapshot(self):
        """The snapshot a view would answer from now; None before the first read (Flask then
        reads, or answers the 503 in the error shape). With a read held, snapshot() never raises."""
        return self.reader.snapshot() if self.reader.latest() is not None else None

    def _record(self, snapshot, variant, environ, start_response):
        """Let Flask answer, and keep its answer for this snapshot when it can be repeated."""
        answer = {}

        def capture(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)
        chunks = self.flask_wsgi(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = answer["headers"]
        if_none_match = variant[3]
        etag = next((value for name, value in headers if name == "ETag"), None)
        if (answer["status"] in REPLAYABLE_STATUS and etag is not None
                and (if_none_match is None or if_none_match == etag)      # its own tag: bounded
                and self.reader.latest() is snapshot and len(snapshot.memo) < MAX_VARIANTS):
            steady = [(name, value) for name, value in headers if name != AGE_HEADER]
            snapshot.memo[variant] = (answer["status"], steady, body, len(steady) < len(headers))
        return [body]
