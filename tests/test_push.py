"""Push end to end on the real PostgreSQL: the sync notifies at commit, each API process listens and
pushes the summary to its Server-Sent Events streams, and the figures pushed are the sources'."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dashboard import push, stream
from pisa import db
from pisa.sync import runner
from tests.ground_truth import expected_charts
from tests.live import LiveProduct, free_port
from tests.rows import insert_row
from tests.sse import EventReader

ROOT = Path(__file__).resolve().parent.parent
SLOW_TICK_S = 60        # the feed's timed reads, pushed out of reach: only a notification moves it


def listen(env):
    """A connection LISTENing on the channel the API listens on, as the API's file says."""
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute(db.load_sql("api/listen_figures_changed.sql"))
    return conn


def notified_sources(conn, wait_s: float = 1.0) -> list[str]:
    time.sleep(wait_s)
    conn.poll()
    payloads = [n.payload for n in conn.notifies]
    conn.notifies.clear()
    return payloads


def commit_row(env, source: str, row_id: int) -> None:
    conn = env.source_conn(source)
    insert_row(conn, row_id)
    conn.commit()
    conn.close()


def test_a_sync_that_changes_figures_notifies_and_one_that_changes_nothing_does_not(env):
    listener = listen(env)
    runner.sync_all_once(env.settings)
    assert sorted(set(notified_sources(listener))) == ["ALB", "ARG", "AUS"]
    runner.sync_all_once(env.settings)
    assert notified_sources(listener) == []                 # nothing changed: nobody is woken
    commit_row(env, "ARG", 9_100_001)
    runner.sync_all_once(env.settings)
    assert notified_sources(listener) == ["ARG"]
    listener.close()


@pytest.fixture
def live(env):
    """The dashboard over three synced sources, no follower: the test syncs when it wants."""
    runner.sync_all_once(env.settings)
    product = LiveProduct(env, follow=False, api_cache_seconds=0)
    yield product
    product.close()


def slow_timer(live) -> None:
    live.app.extensions["pisa_feed"].tick_s = SLOW_TICK_S


def test_the_first_event_is_the_summary_document_with_its_headers(live):
    events = EventReader(live.url, "/api/v1/stream?countries=arg,ALB")
    assert events.response.status == 200
    assert events.response.getheader("Content-Type").startswith("text/event-stream")
    assert events.response.getheader("Cache-Control") == "no-cache"
    assert events.response.getheader("X-Accel-Buffering") == "no"
    assert events.next() == {"retry": str(stream.RETRY_MS)}
    first = events.next()
    assert first["event"] == "summary" and first["id"]
    pushed, polled = json.loads(first["data"]), live.get("/api/v1/summary?countries=arg,ALB")
    moving = ("age_ms", "as_of", "sources")
    assert {k: v for k, v in pushed.items() if k not in moving} == {k: v for k, v in polled.items() if k not in moving}
    assert pushed["countries"] == ["ALB", "ARG"] and pushed["submissions"] == expected_charts(live.env)["/submissions"]
    document = live.get("/api/v1/openapi.json")         # the data is the documented Summary
    summary_schema = {"$ref": "#/components/schemas/Summary", "components": document["components"]}
    assert list(Draft202012Validator(summary_schema).iter_errors(pushed)) == []
    events.close()


def test_a_committed_row_is_pushed_by_the_notification_not_by_the_timer(live):
    slow_timer(live)
    events = EventReader(live.url, "/api/v1/stream")
    before = events.next_of("summary")["data"]["submissions"]["count"]
    commit_row(live.env, "AUS", 9_200_001)
    runner.sync_all_once(live.env.settings)
    pushed = events.next_of("summary", timeout_s=SLOW_TICK_S / 4)
    assert pushed["data"]["submissions"]["count"] == before + 1 == expected_charts(live.env)["/submissions"]["count"]
    assert live.app.extensions["pisa_feed"].listening
    events.close()


def test_a_change_reaches_the_streams_of_every_lane(live):
    """The feed wakes its streams a lane at a time: each lane, the one with two streams too."""
    slow_timer(live)
    streams = [EventReader(live.url, "/api/v1/stream") for _ in range(push.LANES + 1)]
    before = {s.next_of("summary")["data"]["submissions"]["count"] for s in streams}
    commit_row(live.env, "ARG", 9_200_002)
    runner.sync_all_once(live.env.settings)
    after = [s.next_of("summary", timeout_s=SLOW_TICK_S / 4)["data"]["submissions"]["count"] for s in streams]
    assert len(before) == 1 and after == [before.pop() + 1] * len(streams)
    for events in streams:
        events.close()


def test_while_the_feed_listens_polls_answer_from_its_reads_and_see_a_commit_through_the_notification(env):
    runner.sync_all_once(env.settings)
    live = LiveProduct(env, follow=False, api_cache_seconds=0.1)
    reader, feed = live.app.extensions["pisa_reader"], live.app.extensions["pisa_feed"]
    events = EventReader(live.url, "/api/v1/stream")            # the first stream starts the feed
    before = events.next_of("summary")["data"]["submissions"]["count"]
    deadline = time.monotonic() + 5
    while not reader.kept_fresh() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.kept_fresh()
    slow_timer(live)
    time.sleep(1.1)                                  # the feed's last timed read at the old tick is over
    held = reader.latest()
    for _ in range(10):                              # a second of polls, ten cache periods
        assert live.get("/submissions")["count"] == before
        time.sleep(0.1)
    assert reader.latest() is held                   # no poll read for itself
    commit_row(env, "ALB", 9_250_001)
    runner.sync_all_once(env.settings)
    deadline = time.monotonic() + 1
    while live.get("/submissions")["count"] == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live.get("/submissions")["count"] == before + 1 == expected_charts(env)["/submissions"]["count"]
    events.close()
    feed.stop()                                      # not listening: polls read for themselves again
    deadline = time.monotonic() + 5
    while reader.kept_fresh() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not reader.kept_fresh()
    held = reader.latest()
    time.sleep(0.15)
    live.get("/submissions")
    assert reader.latest() is not held
    live.close()


def test_last_event_id_resumes_without_a_gap_and_without_sending_the_same_summary_twice(live):
    first = EventReader(live.url, "/api/v1/stream")
    held = first.next_of("summary")
    first.close()
    again = EventReader(live.url, "/api/v1/stream", headers={"Last-Event-ID": held["id"]})
    with pytest.raises(TimeoutError):
        again.next_of("summary", timeout_s=2.5)             # it holds the current summary already
    again.close()
    commit_row(live.env, "ALB", 9_300_001)                   # missed while disconnected
    runner.sync_all_once(live.env.settings)
    resumed = EventReader(live.url, "/api/v1/stream", headers={"Last-Event-ID": held["id"]})
    missed = resumed.next_of("summary")
    assert missed["id"] != held["id"]
    assert missed["data"]["submissions"]["count"] == held["data"]["submissions"]["count"] + 1
    resumed.close()


def test_ages_move_in_freshness_events_and_a_heartbeat_says_the_age(live, monkeypatch):
    monkeypatch.setattr(stream, "HEARTBEAT_S", 0.5)
    events = EventReader(live.url, "/api/v1/stream")
    events.next_of("summary")
    runner.sync_all_once(live.env.settings)                  # synced_through moves, the figures do not
    freshness = events.next_of("freshness", timeout_s=3)
    assert set(freshness["data"]) == {"as_of", "age_ms"} and freshness["data"]["age_ms"] >= 0
    assert "the data is" in events.next_of("comment", timeout_s=3)["comment"]
    events.close()


def test_a_bad_parameter_is_a_400_in_the_error_shape_before_any_stream(live):
    with pytest.raises(Exception) as raised:
        live.get("/api/v1/stream?countries=XYZ")
    assert raised.value.code == 400
    assert "XYZ" in json.load(raised.value)["error"]["message"]


def test_the_feed_listens_again_after_its_connection_is_cut(live):
    slow_timer(live)
    events = EventReader(live.url, "/api/v1/stream")
    events.next_of("summary")
    central = live.env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'pisa-api-listen' AND datname = current_database()")
        assert cur.rowcount == 1
    central.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _listening_again(live):
        time.sleep(0.1)
    commit_row(live.env, "ARG", 9_400_001)
    runner.sync_all_once(live.env.settings)
    pushed = events.next_of("summary", timeout_s=SLOW_TICK_S / 4)
    assert pushed["data"]["submissions"] == expected_charts(live.env)["/submissions"]
    events.close()


def test_while_it_cannot_listen_the_feed_still_moves_the_streams_every_second(live, caplog):
    feed = live.app.extensions["pisa_feed"]
    feed.listen_url = live.env.settings.api_url() + "_missing"      # LISTEN fails; reads do not
    events = EventReader(live.url, "/api/v1/stream")
    before = events.next_of("summary")["data"]["submissions"]["count"]
    commit_row(live.env, "AUS", 9_450_001)
    runner.sync_all_once(live.env.settings)
    assert events.next_of("summary", timeout_s=5)["data"]["submissions"]["count"] == before + 1
    assert not feed.listening
    assert "cannot listen for changes" in caplog.text and "the streams move every 1 s meanwhile" in caplog.text
    events.close()


def _listening_again(live) -> bool:
    central = live.env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pisa-api-listen' "
                    "AND datname = current_database() AND query LIKE 'LISTEN%'")
        found = cur.fetchone()[0] == 1
    central.close()
    return found


def test_streams_end_after_their_maximum_and_when_the_feed_stops(env):
    runner.sync_all_once(env.settings)
    product = LiveProduct(env, follow=False, stream_max_seconds=0)
    events = EventReader(product.url, "/api/v1/stream")
    events.next_of("summary")
    with pytest.raises(EOFError):
        events.next()
    product.close()
    product = LiveProduct(env, follow=False)
    events = EventReader(product.url, "/api/v1/stream")
    events.next_of("summary")
    product.app.extensions["pisa_feed"].stop()
    with pytest.raises(EOFError):
        events.next(timeout_s=3)
    product.close()


def test_gunicorn_with_gevent_pushes_and_ends_its_streams_at_once_when_stopped(env):
    """The production server, as the Procfile runs it: psycopg2 green under gevent, a row pushed
    through it, and a SIGTERM ends the open streams within a second, not after graceful_timeout."""
    runner.sync_all_once(env.settings)
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1",
                   "PISA_CENTRAL_URL": env.settings.central_url, "PISA_SOURCES": ",".join(env.settings.sources),
                   "PISA_SOURCE_URL_TEMPLATE": env.settings.source_url_template,
                   "PISA_API_ROLE": env.settings.api_role}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "dashboard:create_app()"],
                              cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        events = _connect_when_up(url)
        before = events.next_of("summary")["data"]["submissions"]["count"]
        commit_row(env, "ALB", 9_500_001)
        runner.sync_all_once(env.settings)
        assert events.next_of("summary")["data"]["submissions"]["count"] == before + 1
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        with pytest.raises(EOFError):
            while True:
                events.next(timeout_s=5)
        assert time.monotonic() - stopping < 3
        server.wait(timeout=15)
    finally:
        server.kill()
        output = server.communicate()[0]
    assert "Booting worker with pid" in output and "gevent" in output.lower(), output


def _connect_when_up(url: str) -> EventReader:
    deadline = time.monotonic() + 20
    while True:
        try:
            return EventReader(url, "/api/v1/stream")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
