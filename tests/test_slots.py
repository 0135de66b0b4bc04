"""Streaming runs hand the lease over without a gap; a stuck holder loses it within a bound."""
from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from pisa.sources.writer import Simulator
from pisa.sync import slots
from pisa.sync.runner import SourceRunner, poll_source_once
from tests.ground_truth import assert_exact, central_figures, source_figures, sync_and_reconcile


def run_in_thread(target, *args, **kwargs):
    outcome = {}

    def work():
        try:
            outcome["value"] = target(*args, **kwargs)
        except Exception as exc:  # the test asserts on it
            outcome["error"] = exc
    thread = threading.Thread(target=work)
    thread.start()
    return thread, outcome


def delete_rows(env, source: str, count: int) -> None:
    """Delete `count` rows of a source, as its owner would."""
    conn = env.source_conn(source)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id LIMIT %s)", (count,))
    conn.commit()
    conn.close()


def test_a_streaming_run_hands_over_to_the_next_and_the_figures_stay_exact(make_env):
    env = make_env(sources=("ALB",), rows=100)
    settings = env.settings.replace(poll_interval=0.05)
    simulator = Simulator(settings, rate=200, update_share=0.2, delete_share=0.05, seed=2)
    writer, _ = run_in_thread(simulator.run, seconds=3)
    first, first_out = run_in_thread(slots.stream_slot, settings, "ALB", max_seconds=60)
    time.sleep(1.0)
    queued_at = time.monotonic()
    second, second_out = run_in_thread(slots.stream_slot, settings, "ALB", max_seconds=1.5)
    first.join(timeout=10)
    handed_over_after = time.monotonic() - queued_at
    second.join(timeout=15)
    writer.join()
    assert "error" not in first_out and "error" not in second_out, (first_out, second_out)
    assert first_out["value"].ended_because.startswith("the next run queued")
    assert handed_over_after < 1.0                                   # one poll interval and a batch
    assert second_out["value"].waited_for_lease_s < 1.0
    assert first_out["value"].rows_applied > 0 and second_out["value"].polls > 5
    sync_and_reconcile(env)
    assert_exact(env)


def last_full_check(env, source: str, *, hours_ago: float | None = None):
    """When the source's last full check ended; with `hours_ago`, first set it that far back."""
    central = env.central_conn()
    with central.cursor() as cur:
        if hours_ago is not None:
            cur.execute("UPDATE sync_state SET last_reconcile_at = now() - make_interval(secs => %s) "
                        "WHERE source = %s", (hours_ago * 3600, source))
        cur.execute("SELECT last_reconcile_at FROM sync_state WHERE source = %s", (source,))
        found = cur.fetchone()[0]
    central.close()
    return found


@pytest.mark.parametrize("capture", ["xmin", "wal"])
def test_a_reconcile_run_borrows_the_lease_from_a_streaming_run(make_env, capture):
    env = make_env(sources=("ARG",), rows=100, capture=capture)
    settings = env.settings.replace(poll_interval=0.05)
    stream, stream_out = run_in_thread(slots.stream_slot, settings, "ARG", max_seconds=2.5)
    time.sleep(0.5)
    delete_rows(env, "ARG", 7)
    last_full_check(env, "ARG", hours_ago=2)       # wal: the hourly check is due
    result = slots.reconcile_slot(settings, "ARG")
    stream.join(timeout=10)
    summary = stream_out["value"]
    assert result.status == "ok" and summary.lent_to_reconcile == 1
    assert summary.rows_deleted + result.deleted == 7        # mostly the stream's own delete checks
    assert summary.ended_because.startswith("reached its")
    assert_exact(env)


def test_a_wal_source_skips_the_full_check_until_an_hour_after_the_last(make_env):
    env = make_env(sources=("ALB",), rows=50, capture="wal")
    first = poll_source_once(env.settings, "ALB")   # the first sync reads every row: a full check
    assert first.status == "ok"
    checked_at = last_full_check(env, "ALB")
    assert checked_at is not None
    assert slots.reconcile_slot(env.settings, "ALB") is None
    assert last_full_check(env, "ALB") == checked_at
    last_full_check(env, "ALB", hours_ago=1.01)
    assert slots.reconcile_slot(env.settings, "ALB").status == "ok"
    assert last_full_check(env, "ALB") > checked_at


def test_a_holder_stuck_inside_a_database_call_loses_the_lease_within_the_bound(make_env):
    """execution_timeout cannot interrupt a blocking libpq call: the server-side guards must."""
    env = make_env(sources=("AUS",), rows=20)
    settings = env.settings.replace(lease_timeout_seconds=1.0)
    holder = SourceRunner(settings, "AUS", application_name=slots.STREAM_APP)
    assert holder.try_acquire()
    stuck_at = time.monotonic()

    def stuck_call():   # a query that never ends, then a client that never comes back
        with pytest.raises(psycopg2.errors.QueryCanceled):
            with holder.lease.session.conn.cursor() as cur:
                cur.execute("SELECT pg_sleep(3600)")
    stuck, _ = run_in_thread(stuck_call)
    successor = SourceRunner(settings, "AUS", application_name=slots.STREAM_APP)
    assert successor.wait_acquire(timeout_s=10)
    took = time.monotonic() - stuck_at
    # statement_timeout (2 x lease timeout) ends the call, idle_session_timeout (1 x) the session.
    assert 1.5 < took < 2 * 1.0 + 1.0 + 1.5, took
    assert successor.poll().status == "ok"
    successor.close()
    stuck.join(timeout=5)
    holder.close()


def test_no_two_runners_ever_hold_one_source(make_env):
    env = make_env(sources=("BRA",), rows=20)
    settings = env.settings.replace(poll_interval=0.02)
    central = env.central_conn()
    holders_seen = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            with central.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                            "AND objid = hashtext('BRA')::oid AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())")
                holders_seen.append(cur.fetchone()[0])
            time.sleep(0.005)
    watcher, _ = run_in_thread(watch)
    runs = [run_in_thread(slots.stream_slot, settings, "BRA", max_seconds=0.6) for _ in range(4)]
    for thread, outcome in runs:
        thread.join(timeout=20)
        assert "error" not in outcome, outcome
    stop.set()
    watcher.join()
    central.close()
    assert max(holders_seen) == 1 and len(holders_seen) > 50


def test_a_streaming_run_takes_deleted_rows_out_within_seconds(make_env):
    env = make_env(sources=("DEU",), rows=2000)
    settings = env.settings.replace(poll_interval=0.05)
    stream, outcome = run_in_thread(slots.stream_slot, settings, "DEU", max_seconds=8)
    time.sleep(1.0)
    delete_rows(env, "DEU", 9)
    deleted_at = time.monotonic()
    while central_figures(env) != source_figures(env):
        assert time.monotonic() - deleted_at < 5, "the deletes were still counted after 5 s"
        time.sleep(0.1)
    stream.join(timeout=15)
    assert "error" not in outcome, outcome
    assert outcome["value"].rows_deleted == 9
    assert_exact(env)
