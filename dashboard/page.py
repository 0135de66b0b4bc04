"""The chart page: one static HTML page whose scripts follow /api/v1/stream, or poll /api/v1/summary\nwhile the stream cannot be had (no build step, no CDN)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("page", __name__)

QUIET_AFTER_S = 60      # the badge says "no new rows for ..." after this long without any
STREAM_RETRY_MS = 15_000    # while polling instead, the page tries the stream again this often

# Scripts and styles come from this origin only: the page needs nothing else.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'")


@bp.get("/")
def index():
    """The five charts, the freshness badge and the per-source health panel."""
    settings = current_app.config["SETTINGS"]
    response = current_app.make_response(render_template(
        "index.html", sources=settings.sources, poll_ms=1000, stale_after_s=settings.lagging_after_seconds,
        quiet_after_s=current_app.config.get("PAGE_QUIET_AFTER_S", QUIET_AFTER_S),
        stream_retry_ms=current_app.config.get("PAGE_STREAM_RETRY_MS", STREAM_RETRY_MS)))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response
