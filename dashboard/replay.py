"""Repeat answers: a poll that Flask has already answered for this snapshot is answered again
without Flask.

Two hundred Forage viewers polling five charts a second are a thousand requests a second, nearly
all the same few questions about the same snapshot. Flask's routing, request context, CORS and
conditional handling cost about 0.1 ms a request here, beside the streams on the same two cores.
This WSGI middleware records, per snapshot, the status, headers and body Flask gave to each
variant of a hot poll (path, Origin, and If-None-Match when it named that answer's own ETag) and
replays them to the next request of that variant, with the data's age brought up to the moment
(X-Data-Age-Ms, as every answer has). A poll whose If-None-Match names one other tag (its copy
is older: each viewer's first poll after a change) gets the full answer, as Flask gives it. The
next read of the summaries is a new snapshot and starts empty, so figures are never older than
Flask's own answers.
Anything else (a query string, HEAD, other conditional headers, an error, a path not listed)
goes to Flask, which stays the one place that decides what an answer is.
"""
from __future__ import annotations

import re
from typing import NamedTuple

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
ONE_TAG = re.compile(r'(W/)?"[\x21\x23-\x7e]*"')      # an entity tag (RFC 9110), not a list or *


class Recorded(NamedTuple):
    """Flask's answer to one variant, as replayed: the age header is added at each replay."""

    status: str
    headers: list
    body: bytes
    aged: bool          # whether Flask's answer carried the age header
    etag: str


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
        recorded = snapshot.memo.get(variant) or self._full_answer_to_another_tag(snapshot, variant)
        if recorded is None:
            return self._record(snapshot, variant, environ, start_response)
        headers = recorded.headers
        if recorded.aged:
            headers = headers + [(AGE_HEADER, str(views.freshness_now(snapshot, self.settings)["age_ms"]))]
        start_response(recorded.status, headers)
        return [recorded.body]

    @staticmethod
    def _variant(environ) -> tuple | None:
        """The key of a repeatable request, or None to let Flask answer it."""
        if (environ["REQUEST_METHOD"] != "GET" or environ.get("QUERY_STRING")
                or environ.get("PATH_INFO") not in PATHS or any(h in environ for h in UNREPEATABLE)):
            return None
        return ("repeat", environ["PATH_INFO"], environ.get("HTTP_ORIGIN"), environ.get("HTTP_IF_NONE_MATCH"))

    @staticmethod
    def _full_answer_to_another_tag(snapshot, variant) -> Recorded | None:
        """The recorded full answer, when If-None-Match names one other tag than its ETag: Flask
        answers that with the full 200 too."""
        if_none_match = variant[3]
        full = snapshot.memo.get(variant[:3] + (None,)) if if_none_match else None
        return full if full is not None and _names_another_tag(if_none_match, full.etag) else None

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
        etag = next((value for name, value in headers if name == "ETag"), None)
        key = _replayed_as(variant, answer["status"], etag)
        if (answer["status"] in REPLAYABLE_STATUS and key is not None
                and self.reader.latest() is snapshot and len(snapshot.memo) < MAX_VARIANTS):
            steady = [(name, value) for name, value in headers if name != AGE_HEADER]
            snapshot.memo[key] = Recorded(answer["status"], steady, body, len(steady) < len(headers), etag)
        return [body]


def _replayed_as(variant: tuple, status: str, etag: str | None) -> tuple | None:
    """The variant Flask's answer is replayed to: its own when If-None-Match was absent or named
    this answer's tag (so the variants stay bounded), the unconditional one when it named one
    other tag and got the full 200 (the same answer), else none."""
    if_none_match = variant[3]
    if etag is None:
        return None                     # an error, say: Flask's to answer each time
    if if_none_match is None or if_none_match == etag:
        return variant
    if status == "200 OK" and _names_another_tag(if_none_match, etag):
        return variant[:3] + (None,)
    return None


def _names_another_tag(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match is one entity tag that is not `etag`, compared weakly (as
    If-None-Match is): a list of tags or `*` is Flask's to judge."""
    return bool(ONE_TAG.fullmatch(if_none_match)) and if_none_match.removeprefix("W/") != etag.removeprefix("W/")
