"""JSON responses with an ETag (a repeat poll with no change gets a bodiless 304) and freshness
headers, so the contract bodies stay exactly what the charts expect.

An ETag is strong when it is the hash of the body itself, and weak (`W/"..."`: same figures
and states, not the same bytes) when the body carries fields that move every poll (ages, lags)
and the tag leaves them out: a cache then knows not to serve the old body as byte-identical.
"""
from __future__ import annotations

import hashlib
import json

from flask import Response, request

from dashboard.errors import error_response


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode(body: dict, etag_basis=None) -> tuple[str, str]:
    """The JSON text of `body` and its ETag header value.

    The ETag hashes `etag_basis` (default: the body, a strong tag). Views whose body carries
    fields that move every poll (ages, lags) pass the body without them, so the tag, weak, changes
    only with the figures and states; the moving freshness travels in X-Data-As-Of /
    X-Data-Age-Ms, on 304s too.
    """
    payload = _dumps(body)
    basis = payload if etag_basis is None else _dumps(etag_basis)
    tag = f'"{hashlib.blake2b(basis.encode(), digest_size=12).hexdigest()}"'
    return payload, tag if etag_basis is None else "W/" + tag


def json_response(body: dict, freshness: dict, etag_basis=None) -> Response:
    """`body` as JSON with its ETag and freshness, conditional on If-None-Match."""
    return encoded_response(*encode(body, etag_basis), freshness)


def encoded_response(payload: str, etag: str, freshness: dict) -> Response:
    """An already encoded body with its ETag header value and freshness, conditional on
    If-None-Match (a 304) and If-Match (a 412, in the error shape)."""
    response = Response(payload, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    if freshness.get("as_of"):
        response.headers["X-Data-As-Of"] = freshness["as_of"]
        response.headers["X-Data-Age-Ms"] = str(freshness["age_ms"])
    response = response.make_conditional(request)
    if response.status_code == 412:
        return error_response("If-Match: the resource's current ETag is not among those given "
                              "(a weak ETag never matches If-Match)", 412)
    return response
