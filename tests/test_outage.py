"""A central database that refuses connections for a while: every runner resumes within about
2 s of it answering again (the retry back-off is capped), the CLI's follower and a streaming
Airflow run alike, and nothing is lost."""
from __future__ import annotations

import threading
import time

import pytest

from pisa import db
from pisa.sync import slots
from pisa.sync.runner import follow_all
from tests.ground_truth import assert_exact, central_figures, source_figures
from tests.rows import insert_row
from tests.test_slots import run_in_thread

OUTAGE_S = 8          # long enough for an uncapped back-off to reach 4 s and more


def set_connections_allowed(env, allowed: bool) -> None:
    """Let sessions into the central database, or refuse them and end those it has."""
    name = db.database_name(env.settings.central_url)
    with db.maintenance_connection(env.settings.central_url) as conn, conn.cursor() as cur:
        cur.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allowed).lower()}")
        if not allowed:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def start_follower(settings):
    stop = threading.Event()
    thread = threading.Thread(target=follow_all, args=(settings, stop))
    thread.start()
    return lambda: (stop.set(), thread.join(timeout=20))


def start_stream(settings):
    thread, outcome = run_in_thread(slots.stream_slot, settings, "ALB", max_seconds=OUTAGE_S + 12)
    return lambda: (thread.join(timeout=40), outcome.get("error"))


@pytest.mark.parametrize("start", [start_follower, start_stream], ids=["pisa sync", "a streaming run"])
def test_sync_resumes_within_two_seconds_of_the_central_database_answering_again(make_env, start):
    env = make_env(sources=("ALB",), rows=50)
    settings = env.settings.replace(poll_interval=0.05)
    stop = start(settings)
    try:
        deadline = time.monotonic() + 10
        while central_figures(env) != source_figures(env):
            assert time.monotonic() < deadline, "the first sync did not finish"
            time.sleep(0.1)
        set_connections_allowed(env, False)
        time.sleep(1)
        source = env.source_conn("ALB")
        insert_row(source, 987654321)           # written while the central database is away
        source.commit()
        source.close()
        time.sleep(OUTAGE_S - 1)
        set_connections_allowed(env, True)
        back_at = time.monotonic()
        while central_figures(env) != source_figures(env):
            assert time.monotonic() - back_at < 2.5, "not resumed within 2.5 s of the database answering"
            time.sleep(0.05)
    finally:
        set_connections_allowed(env, True)
        outcome = stop()
    assert not (isinstance(outcome, tuple) and outcome[1]), outcome
    assert_exact(env)
