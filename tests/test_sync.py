"""The sync core against ground truth on the real PostgreSQL: exact, complete, crash-safe, with
each capture strategy (the `env` here is made once per strategy)."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from pisa.errors import SchemaMismatch
from pisa.sources.writer import Simulator
from pisa.sync import runner
from pisa.sync.runner import SourceRunner, poll_source_once
from pisa.sync.session import SyncSession
from pisa.sync.slots import stream_slot
from tests.ground_truth import assert_exact, central_figures, source_figures, sync_and_reconcile
from tests.rows import insert_row


@pytest.fixture
def env(make_env, capture):
    """Three small sources and a central DB, not yet synced, with each capture strategy."""
    return make_env(capture=capture)


def test_first_sync_copies_every_row_exactly(env):
    sync_and_reconcile(env)
    assert_exact(env)
    assert {s: f[0] for s, f in central_figures(env).items()} == {"ALB": 200, "ARG": 200, "AUS": 200}


def test_random_inserts_updates_deletes_and_malformed_values_stay_exact(env):
    simulator = Simulator(env.settings, rate=0, update_share=0.3, delete_share=0.15, bad_share=0.2, seed=7)
    sync_and_reconcile(env)
    for _ in range(5):
        simulator.write_rows(150)
        sync_and_reconcile(env)
        assert_exact(env)
    simulator.close()
    stats = simulator.stats
    assert stats.inserts > 300 and stats.updates > 100 and stats.deletes > 50 and stats.malformed > 50


def test_all_twenty_sources_count_under_their_own_country(make_env):
    from pisa.config import COUNTRIES
    env = make_env(sources=COUNTRIES, rows=40, seed=3)
    Simulator(env.settings, rate=0, bad_share=0.3, seed=3).write_rows(200)
    sync_and_reconcile(env)
    assert_exact(env)
    assert sorted(central_figures(env)) == list(COUNTRIES)


def test_transaction_that_began_earlier_but_commits_later_is_not_lost(env):
    """The xmin trap: a naive 'max xid seen' watermark would skip the slower transaction."""
    slow, fast = env.source_conn("ALB"), env.source_conn("ALB")
    runner.sync_all_once(env.settings)
    insert_row(slow, 1_000_001)                   # takes the older xid, stays open
    insert_row(fast, 1_000_002)
    fast.commit()                                 # the newer xid commits first
    first = poll_source_once(env.settings, "ALB")
    assert first.status == "ok" and first.inserted == 1
    slow.commit()                                 # the older xid commits after the poll
    second = poll_source_once(env.settings, "ALB")
    assert second.inserted == 1
    assert_exact(env)
    slow.close(), fast.close()


def test_rows_held_back_by_a_long_transaction_are_read_again_but_applied_once(xmin_env):
    env = xmin_env
    # xids are server-wide: other sessions on the server may hold the watermark back a little
    # longer too, so the reads are bounded from below and the applied rows counted exactly.
    runner.sync_all_once(env.settings)
    pinning = env.source_conn("ALB")
    with pinning.cursor() as cur:
        cur.execute("SELECT pg_current_xact_id()")    # an open transaction with an xid pins the watermark
        pinned_xid = int(cur.fetchone()[0])
    writer = env.source_conn("ALB")
    for row_id in range(2_000_001, 2_000_011):
        insert_row(writer, row_id)
        writer.commit()
    first = poll_source_once(env.settings, "ALB")
    again = poll_source_once(env.settings, "ALB")
    assert first.read >= 10 and first.changed == 10
    assert again.read >= 10 and again.changed == 0     # seen again, skipped by version
    assert env.sync_state("ALB")["watermark"] <= pinned_xid
    pinning.rollback()
    for _ in range(50):                                 # once nothing older runs, the watermark moves on
        assert poll_source_once(env.settings, "ALB").changed == 0
        if env.sync_state("ALB")["watermark"] > pinned_xid:
            break
        time.sleep(0.1)
    assert env.sync_state("ALB")["watermark"] > pinned_xid
    assert_exact(env)
    pinning.close(), writer.close()


@pytest.mark.parametrize("fail_on_commit", [1, 3])
def test_failure_between_upsert_and_commit_then_rerun_counts_nothing_twice(make_env, capture, monkeypatch,
                                                                          fail_on_commit):
    env = make_env(rows=230, batch_rows=50, capture=capture)    # 5 batches: a failure can land mid-poll
    commits = {"n": 0}
    real_commit = SyncSession.commit

    def failing_commit(self):
        commits["n"] += 1
        if commits["n"] == fail_on_commit:
            raise RuntimeError("injected crash between upsert and commit")
        real_commit(self)

    monkeypatch.setattr(SyncSession, "commit", failing_commit)
    with pytest.raises(RuntimeError, match="injected crash"):
        sync_runner = SourceRunner(env.settings, "ALB")
        assert sync_runner.try_acquire()
        try:
            sync_runner.poll()
        finally:
            sync_runner.close()
    monkeypatch.setattr(SyncSession, "commit", real_commit)
    sync_and_reconcile(env)
    assert_exact(env)


def test_follow_mode_keeps_up_with_a_concurrent_writer(env):
    settings = env.settings.replace(poll_interval=0.05)
    stop = threading.Event()
    follower = threading.Thread(target=runner.follow_all, args=(settings, stop, 0.5))
    follower.start()
    simulator = Simulator(settings, rate=400, update_share=0.2, delete_share=0.1, bad_share=0.1, seed=11)
    simulator.run(seconds=3)
    try:
        deadline = time.monotonic() + 15
        while central_figures(env) != source_figures(env) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        follower.join(timeout=10)
    assert not follower.is_alive()
    assert simulator.stats.total > 800
    assert_exact(env)


def test_malformed_values_are_quarantined_with_reasons_and_the_row_still_counts(env):
    conn = env.source_conn("ARG")
    insert_row(conn, 42, cnt="ARG", escs="abc", tmins="20000", belong="NA", durecec="2.5")
    insert_row(conn, 43, cnt="CHE", escs=" 1.25 ", tmins="", belong=None, durecec="8")
    conn.commit()
    sync_and_reconcile(env)
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT id, column_name, raw_value, reason FROM quarantine WHERE source = 'ARG' AND id IN (42, 43) ORDER BY 1, 2")
        assert cur.fetchall() == [
            (42, "durecec", "2.5", "not a whole number"),
            (42, "escs", "abc", "not a number"),
            (42, "tmins", "20000", "out of range [0, 10080]"),
            (43, "cnt", "CHE", "country code does not match source ARG"),
        ]
        cur.execute("SELECT id, escs, tmins, belong, durecec FROM facts WHERE source = 'ARG' AND id IN (42, 43) ORDER BY id")
        assert [tuple(None if v is None else float(v) for v in row) for row in cur.fetchall()] == [
            (42, None, None, None, None), (43, 1.25, None, None, 8)]
    assert_exact(env)

    with conn.cursor() as cur:                     # the source fixes one row and drops the other
        cur.execute("UPDATE responses SET escs = '0.5', tmins = '1200', durecec = '2' WHERE id = 42")
        cur.execute("DELETE FROM responses WHERE id = 43")
    conn.commit()
    sync_and_reconcile(env)
    with central.cursor() as cur:
        cur.execute("SELECT count(*) FROM quarantine WHERE source = 'ARG' AND id IN (42, 43)")
        assert cur.fetchone() == (0,)
    assert_exact(env)
    conn.close(), central.close()


def test_numbers_in_any_valid_notation_flow_through_and_odd_ones_are_quarantined(env):
    conn = env.source_conn("AUS")
    insert_row(conn, 50, cnt="AUS", escs="1e-99", tmins="1.2E+3", belong="-0", durecec="0e1")
    insert_row(conn, 51, cnt="AUS", escs="1e-16384", tmins="1e99999999999999999999", belong="\u0663", durecec="8.000")
    conn.commit()
    conn.close()
    sync_and_reconcile(env)
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT id, column_name, reason FROM quarantine WHERE source = 'AUS' ORDER BY 1, 2")
        assert cur.fetchall() == [(51, "belong", "not a number"), (51, "escs", "more than 100 decimal places"),
                                  (51, "tmins", "exponent too large")]
        cur.execute("SELECT tmins, durecec FROM facts WHERE source = 'AUS' AND id IN (50, 51) ORDER BY id")
        assert cur.fetchall() == [(1200, 0), (None, 8)]
    central.close()


def test_a_second_runner_cannot_take_a_held_lease(env):
    holder = SourceRunner(env.settings, "ALB")
    assert holder.try_acquire()
    assert poll_source_once(env.settings, "ALB").status == "skipped"
    holder.close()                                  # the lease dies with its session
    assert poll_source_once(env.settings, "ALB").status == "ok"


def test_a_watermark_from_the_future_triggers_one_full_resync(xmin_env):
    env = xmin_env
    runner.sync_all_once(env.settings)
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("UPDATE sync_state SET watermark = watermark + 1000000000 WHERE source = 'AUS'")
    writer = env.source_conn("AUS")
    insert_row(writer, 3_000_001, cnt="AUS")
    writer.commit()
    result = poll_source_once(env.settings, "AUS")
    assert (result.read, result.changed) == (201, 1)
    assert_exact(env)
    central.close(), writer.close()


def test_an_unreachable_source_fails_alone_with_a_clear_error(env):
    broken = env.settings.replace(source_url_template=env.settings.source_url_template.replace("_src_", "_missing_"))
    results = runner.sync_all_once(broken.with_sources(["ALB"]))
    assert results[0].status == "failed"
    assert "is unreachable" in results[0].error and "does not exist" in results[0].error
    assert [r.status for r in runner.sync_all_once(env.settings)] == ["ok", "ok", "ok"]
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT source, last_error FROM sync_state ORDER BY source")
        assert cur.fetchall() == [("ALB", None), ("ARG", None), ("AUS", None)]   # healed by the good pass
    central.close()


MISSING_BELONG = 'source table responses lacks a needed column: column "belong" does not exist'


def test_a_source_without_a_needed_column_is_a_schema_mismatch_for_every_runner(env):
    conn = env.source_conn("ARG")
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE responses DROP COLUMN belong")
    conn.commit()
    conn.close()
    result = poll_source_once(env.settings, "ARG")              # the CLI: a failed result
    assert (result.status, result.error) == ("failed", MISSING_BELONG)
    assert last_errors(env) == {"ARG": MISSING_BELONG}         # the other sources never ran
    with pytest.raises(SchemaMismatch) as raised:               # an Airflow run: raises, to be retried
        stream_slot(env.settings, "ARG", max_seconds=1)
    assert str(raised.value) == MISSING_BELONG
    assert last_errors(env)["ARG"] == MISSING_BELONG


def last_errors(env) -> dict:
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT source, last_error FROM sync_state")
        errors = dict(cur.fetchall())
    central.close()
    return errors


def test_random_ids_are_not_increasing(env):
    conn = env.source_conn("ALB")
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM responses ORDER BY ctid")
        ids = [i for (i,) in cur.fetchall()]
    conn.close()
    assert ids != sorted(ids) and len(set(ids)) == len(ids)


def test_every_poll_logs_one_debug_line_with_its_watermark_and_cost(xmin_env, caplog):
    env = xmin_env
    runner.sync_all_once(env.settings)
    caplog.set_level("DEBUG", logger="pisa.sync.poll")
    before = env.sync_state("ALB")["watermark"]
    result = poll_source_once(env.settings, "ALB")
    lines = [r.getMessage() for r in caplog.records if r.name == "pisa.sync.poll"]
    assert len(lines) == 1
    # (rows may be read again while another session on the server holds an old xid: none change)
    assert lines[0] == (f"ALB: poll: {result.read} rows read, 0 changed, 0 deleted; xmin watermark {before} -> "
                        f"{result.watermark}; took {result.duration_s * 1000:.1f} ms")
    assert result.watermark == env.sync_state("ALB")["watermark"] >= before


def test_the_decimal_places_limit_is_the_same_in_the_readme_the_parser_and_the_ground_truth(env):
    conn = env.source_conn("ALB")
    insert_row(conn, 60, escs="1." + "0" * 101, tmins="1e-99", belong="0." + "0" * 99 + "1", durecec="8." + "0" * 101)
    conn.commit()
    conn.close()
    sync_and_reconcile(env)
    assert_exact(env)                    # the ground truth's own SQL applies the documented limit
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT column_name, reason FROM quarantine WHERE source = 'ALB' AND id = 60")
        assert cur.fetchall() == [("escs", "more than 100 decimal places")]
        cur.execute("SELECT tmins, belong, durecec FROM facts WHERE source = 'ALB' AND id = 60")
        assert cur.fetchone() == (Decimal("1e-99"), Decimal("1e-100"), 8)
    central.close()
