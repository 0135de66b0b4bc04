"""`GET /api/v1/stream`: the summary as Server-Sent Events, pushed when the figures change.

The first event is the whole summary (the `/api/v1/summary` document for the same `countries`);
then one `summary` event each time its figures or source states change, and a small `freshness`
event when only the data's age moved (at most once a second), so the page's age stays true
between changes. Each summary event's `id` is its ETag's tag: a client that reconnects with
`Last-Event-ID` gets the current summary only if it differs from the one it holds, so nothing is
missed and nothing is sent twice, whichever worker it reaches. A comment line with the data's age
every `HEARTBEAT_S` keeps proxies from closing a quiet connection. The server ends a stream
after `PISA_STREAM_MAX_SECONDS`, or when its worker stops; the browser reconnects after `retry`.
"""
from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, request, stream_with_context

from dashboard import push, views
from dashboard.db import reader
from dashboard.params import parse_countries

bp = Blueprint("stream", __name__, url_prefix="/api/v1")

HEARTBEAT_S = 15.0
RETRY_MS = 1000             # how soon the browser reconnects to an ended stream


@bp.get("/stream")
def stream():
    """The summary, pushed: a `summary` event per change, `freshness` events, heartbeats."""
    settings = current_app.config["SETTINGS"]
    countries = parse_countries(request, settings.sources)
    first = reader().snapshot()             # a 400 or a 503 comes before the stream, as JSON
    change_feed = push.feed()
    events = summary_events(change_feed, first, settings, countries, request.headers.get("Last-Event-ID"))
    response = Response(stream_with_context(events), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"      # nginx: pass each event on at once
    return response


def summary_events(change_feed: push.ChangeFeed, snapshot, settings, countries, last_id: str | None):
    """The stream's bytes: `retry`, then events as the feed's snapshots change, until it ends."""
    yield f"retry: {RETRY_MS}\n\n".encode()
    ends_at = time.monotonic() + settings.stream_max_seconds
    version, sent_as_of, heartbeat_at = change_feed.version, None, time.monotonic() + HEARTBEAT_S
    lane = change_feed.lane()
    while True:
        event_id, summary_event, as_of, freshness_event = encoded_events(snapshot, settings, countries)
        if event_id != last_id:
            yield summary_event
            last_id, sent_as_of = event_id, as_of
        elif as_of != sent_as_of:
            yield freshness_event
            sent_as_of = as_of
        now = time.monotonic()
        if now >= ends_at or change_feed.stopped.is_set():
            return
        if now >= heartbeat_at:
            age_ms = views.freshness_now(snapshot, settings)["age_ms"]
            yield f": heartbeat; the data is {age_ms} ms old\n\n".encode()
            heartbeat_at = now + HEARTBEAT_S
        seen = version
        version = change_feed.wait(seen, min(ends_at, heartbeat_at) - time.monotonic(), lane)
        if version != seen and change_feed.snapshot is not None:
            snapshot = change_feed.snapshot


def encoded_events(snapshot, settings, countries) -> tuple[str, bytes, str | None, bytes]:
    """A snapshot's summary event (with its id) and freshness event (with its `as_of`) for one
    country filter, encoded once for all the streams that send them: a thousand streams cost one
    encoding per change, not a thousand."""
    def build():
        payload, etag = views.summary(snapshot, settings, countries)
        event_id = etag.removeprefix("W/").strip('"')
        fresh = views.freshness_now(snapshot, settings)
        return (event_id, f"id: {event_id}\nevent: summary\ndata: {payload}\n\n".encode(), fresh["as_of"],
                f"event: freshness\ndata: {json.dumps(fresh)}\n\n".encode())
    return snapshot.memoized(("stream events", countries), build)
