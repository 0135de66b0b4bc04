"""The API under pressure: a full pool, a locked or failing central database. Every request
answers within about a second, from the last good read or with a 503 that says when to retry."""
from __future__ import annotations

import threading
import time

from tests.ground_truth import expected_charts
from tests.test_api import DATABASE_DOWN, assert_error_shape

SUMMARIES_FAILING = ("the central database answers, but reading the summaries is failing; "
                     "the figures served are from the last good read")


def locked_summaries(env):
    """A central session holding `country_stats` locked (as a migration would), until closed."""
    conn = env.central_conn()
    with conn.cursor() as cur:           # the connection is in autocommit: open the transaction
        cur.execute("BEGIN")
        cur.execute("LOCK TABLE country_stats IN ACCESS EXCLUSIVE MODE")
    return conn


def concurrent_gets(client_factory, path: str, count: int) -> list[tuple[int, float]]:
    """(status, seconds) of `count` simultaneous GETs of `path`, each on its own client."""
    results: list[tuple[int, float]] = []
    clients = [client_factory() for _ in range(count)]
    start = threading.Barrier(count)

    def get(client):
        start.wait()
        began = time.monotonic()
        status = client.get(path).status_code
        results.append((status, time.monotonic() - began))
    threads = [threading.Thread(target=get, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_full_pool_is_a_503_with_retry_after_not_a_500(api_client, synced):
    client = api_client(synced, web_threads=1)
    engine = client.application.extensions["pisa_reader"].engine
    held = [engine.connect() for _ in range(2)]        # the pool's one connection and its overflow
    try:
        response = client.get("/api/v1/quarantine")
        assert_error_shape(response, 503, DATABASE_DOWN)
        assert response.headers["Retry-After"] == "1"
    finally:
        for connection in held:
            connection.close()
    assert client.get("/api/v1/quarantine").status_code == 200


def test_with_the_summaries_locked_requests_answer_at_once_from_the_last_good_read(api_client, synced):
    client = api_client(synced)
    app = client.application
    expected = expected_charts(synced)["/tmins"]
    assert client.get("/tmins").get_json() == expected       # a good read to fall back on
    lock = locked_summaries(synced)
    try:
        results = concurrent_gets(app.test_client, "/tmins", 16)
        assert sorted(status for status, _ in results) == [200] * 16
        assert max(seconds for _, seconds in results) < 2.5, results   # one waits for lock_timeout (1 s)
        health = client.get("/healthz")
        assert_error_shape(health, 503, SUMMARIES_FAILING)
        assert client.get("/tmins").get_json() == expected
    finally:
        lock.close()
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_with_nothing_read_yet_a_locked_database_gives_503s_within_about_a_second(api_client, synced):
    client = api_client(synced)
    lock = locked_summaries(synced)
    try:
        results = concurrent_gets(client.application.test_client, "/api/v1/summary", 16)
    finally:
        lock.close()
    assert sorted(status for status, _ in results) == [503] * 16
    assert max(seconds for _, seconds in results) < 2.5, results
    assert client.get("/api/v1/summary").status_code == 200
