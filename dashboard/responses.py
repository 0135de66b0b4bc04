"""JSON responses with an ETag (a repeat poll with no change gets a bodiless 304) and freshness
headers, so the contract bodies stay exactly what the charts expect."""
from __future__ import annotations

import hashlib
import json

from flask import Response, request


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode(body: dict, etag_basis=None) -> tuple[str, str]:
    """The JSON text of `body` and its ETag.

    The ETag hashes `etag_basis` (default: the body). Views whose body carries fields that move
    every poll (ages, lags) pass the body without them, so the tag changes only with the figures
    and states; the moving freshness travels in X-Data-As-Of / X-Data-Age-Ms, on 304s too.
    """
    payload = _dumps(body)
    basis = payload if etag_basis is None else _dumps(etag_basis)
    return payload, hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()


def json_response(body: dict, freshness: dict, etag_basis=None) -> Response:
    """`body` as JSON with its ETag and freshness, conditional on If-None-Match."""
    return encoded_response(*encode(body, etag_basis), freshness)


def encoded_response(payload: str, etag: str, freshness: dict) -> Response:
    """An already encoded body with its ETag and freshness, conditional on If-None-Match."""
    response = Response(payload, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    if freshness.get("as_of"):
        response.headers["X-Data-As-Of"] = freshness["as_of"]
        response.headers["X-Data-Age-Ms"] = str(freshness["age_ms"])
    return response.make_conditional(request)
