"""Reconcile at the edges: table rewrites, rows back at an old version, old central databases,
sources without a primary key."""
from __future__ import annotations

import threading
import time

import pytest

from pisa.sync import reconcile, runner
from pisa.sync.duplicates import newest_per_id
from pisa.sync.reconcile import whole_id_batches
from pisa.sync.runner import poll_source_once
from tests.ground_truth import (assert_exact, central_figures, central_quarantine_reasons,
                                source_figures, sync_and_reconcile)


REWRITES = {
    "a rewriting ALTER TABLE": "ALTER TABLE responses ADD COLUMN extra text DEFAULT md5(random()::text)",
    "TRUNCATE and reload": "CREATE TEMP TABLE kept AS SELECT * FROM responses; TRUNCATE responses; "
                           "INSERT INTO responses SELECT * FROM kept",
}


@pytest.mark.parametrize("full_check", [True, False], ids=["reconcile", "a poll's delete check"])
@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_table_rewrite_during_reconcile_never_drops_a_country_nor_moves_first_seen(xmin_env, rewrite, full_check):
    env = xmin_env              # xmin's snapshot meets the rewrite; wal streams a TRUNCATE (test_wal.py)
    sync_and_reconcile(env)
    before, first_seen = central_figures(env), first_seen_times(env, "ALB")
    rewriter = env.source_conn("ALB")

    def rewrite_slowly():
        with rewriter.cursor() as cur:
            cur.execute(REWRITES[rewrite])
            cur.execute("SELECT pg_sleep(1.5)")
        rewriter.commit()
    thread = threading.Thread(target=rewrite_slowly)
    thread.start()
    time.sleep(0.3)                          # the reconcile's snapshot, then its read waits on the lock
    result = poll_source_once(env.settings, "ALB", reconcile_after=full_check)
    thread.join()
    rewriter.close()
    check = result.reconcile if full_check else result.deletes
    assert result.status == "ok" and check.skipped is not None, result.describe()
    assert (central_figures(env), first_seen_times(env, "ALB")) == (before, first_seen)
    sync_and_reconcile(env)                  # the rewritten rows come back as updates, not as new rows
    assert_exact(env)
    assert (central_figures(env), first_seen_times(env, "ALB")) == (before, first_seen)


def first_seen_times(env, source: str) -> dict:
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT id, first_seen FROM facts WHERE source = %s", (source,))
        times = dict(cur.fetchall())
    central.close()
    return times


def test_a_row_back_at_its_old_version_with_other_values_is_repaired_by_reconcile(env):
    sync_and_reconcile(env)
    conn = env.source_conn("ARG")
    with conn.cursor() as cur:          # a copy made in the same transaction as an update: its
        cur.execute("CREATE TABLE responses_copy AS SELECT * FROM responses")   # rows share the xid
        cur.execute("UPDATE responses SET escs = '9.5', tmins = '99' WHERE id IN (SELECT id FROM responses LIMIT 20)")
    conn.commit()
    sync_and_reconcile(env)             # central now holds the updated values, at that xid
    with conn.cursor() as cur:          # the copy (old values, same xid) replaces the table
        cur.execute("DROP TABLE responses")
        cur.execute("ALTER TABLE responses_copy RENAME TO responses")
        cur.execute("ALTER TABLE responses ADD PRIMARY KEY (id)")
    conn.commit()
    conn.close()
    sync_and_reconcile(env)
    assert_exact(env)


def test_a_central_database_from_before_content_hashes_is_filled_in_by_one_reconcile(env):
    sync_and_reconcile(env)
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("UPDATE facts SET content_hash = NULL")      # as `pisa central init` upgrades it
    sync_and_reconcile(env)
    with central.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE content_hash IS NULL), count(*) FROM facts")
        assert cur.fetchone() == (0, 600)
    central.close()
    assert_exact(env)


def test_a_source_without_a_primary_key_counts_the_newest_row_per_id_and_keeps_syncing(env):
    sync_and_reconcile(env)
    others = {s: f for s, f in central_figures(env).items() if s != "AUS"}
    conn = env.source_conn("AUS")
    with conn.cursor() as cur:
        cur.execute("ALTER TABLE responses DROP CONSTRAINT responses_pkey")
        # A table without a key must leave the publication (its UPDATEs and DELETEs would fail):
        # capture auto falls back to xmin for it, and says why.
        cur.execute("DROP PUBLICATION pisa_responses")
        cur.execute("SELECT min(id), max(id) FROM responses")
        older_id, tied_id = cur.fetchone()
    conn.commit()
    with conn.cursor() as cur:          # a newer row under an existing id
        cur.execute("INSERT INTO responses (id, cnt, escs, tmins, belong, durecec) "
                    "VALUES (%s, 'AUS', '9.25', '600', '-1.5', '3')", (older_id,))
        cur.execute("INSERT INTO responses (id, cnt, escs, tmins, belong, durecec) "   # same transaction
                    "SELECT id, cnt, '-9.75', '10', '2', '8' FROM responses WHERE id = %s", (tied_id,))
    conn.commit()

    runner.sync_all_once(env.settings)  # a poll alone: the newest row counts at once
    assert central_figures(env) == source_figures(env)
    aus = env.sync_state("AUS")
    assert aus["capture"] == "xmin"
    assert aus["note"] == ("logical replication unavailable: no publication pisa_responses "
                           "covering responses for inserts, updates, deletes and truncates")
    assert env.sync_state("ALB")["capture"] == "wal"
    sync_and_reconcile(env)             # reconcile records the rows not counted, and works on
    assert_exact(env)
    assert central_quarantine_reasons(env)[("AUS", older_id, "id")] == "duplicate id"
    assert {s: f for s, f in central_figures(env).items() if s != "AUS"} == others

    with conn.cursor() as cur:          # the newest goes: the older row counts again
        cur.execute("DELETE FROM responses WHERE id = %s AND escs = '9.25'", (older_id,))
    conn.commit()
    conn.close()
    sync_and_reconcile(env)
    assert_exact(env)
    assert ("AUS", older_id, "id") not in central_quarantine_reasons(env)
    again = poll_source_once(env.settings, "AUS", reconcile_after=True)
    assert again.status == "ok" and again.reconcile.differing == 0, again.describe()


def test_the_newest_row_of_an_id_counts_across_xid_wraparound_and_ties_go_to_the_larger_hash():
    old, new, wrapped = (7, 100, 1, "a", 5), (7, 200, 1, "b", 9), (7, 5, 1, "c", 1)
    assert newest_per_id([new, old]) == ([new], [old])
    assert newest_per_id([old, new, (8, 1, 1, "x", 0)]) == ([new, (8, 1, 1, "x", 0)], [old])
    near_wrap = (7, 2**32 - 10, 1, "d", 0)      # 'wrapped' was written 15 xids later
    assert newest_per_id([wrapped, near_wrap]) == ([wrapped], [near_wrap])
    tie_low, tie_high = (9, 50, 1, "e", -3), (9, 50, 1, "f", 4)
    assert newest_per_id([tie_high, tie_low]) == ([tie_high], [tie_low])


def test_repair_reads_are_cut_so_that_no_id_straddles_two_batches():
    rows = [(1,), (2,), (2,), (2,), (3,), (4,), (4,)]
    batches = list(whole_id_batches(iter([rows[0:2], rows[2:4], rows[4:6], rows[6:]])))
    assert batches == [[(1,)], [(2,), (2,), (2,), (3,)], [(4,), (4,)]]
    assert list(whole_id_batches(iter([[(5,), (5,)], [(5,)]]))) == [[(5,), (5,), (5,)]]


def test_a_poll_takes_deleted_rows_out_by_counting_without_a_full_check(xmin_env):
    env = xmin_env              # wal streams its deletes (test_wal.py)
    sync_and_reconcile(env)
    conn = env.source_conn("ARG")
    with conn.cursor() as cur:
        cur.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id DESC LIMIT 7)")
        cur.execute("UPDATE responses SET escs = '1.25' WHERE id IN (SELECT id FROM responses ORDER BY id LIMIT 3)")
    conn.commit()
    conn.close()
    result = poll_source_once(env.settings, "ARG")
    assert result.reconcile is None and (result.deleted, result.changed) == (7, 3), result.describe()
    assert result.deletes.differing <= 7
    assert_exact(env)
    assert poll_source_once(env.settings, "ARG").deletes is None       # counts equal: nothing to look for


def test_a_source_that_lost_many_rows_is_repaired_in_transactions_of_a_batch_each(make_env, monkeypatch):
    env = make_env(sources=("ALB",), rows=300, capture="xmin", batch_rows=50)   # wal would stream the deletes
    sync_and_reconcile(env)
    conn = env.source_conn("ALB")
    with conn.cursor() as cur:
        cur.execute("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id LIMIT 180)")
    conn.commit()
    conn.close()
    deletes_per_transaction = []
    apply_batch = reconcile.apply_batch

    def recording(lease, batch, **kwargs):
        deletes_per_transaction.append(len(batch.deleted_ids))
        return apply_batch(lease, batch, **kwargs)
    monkeypatch.setattr(reconcile, "apply_batch", recording)
    result = poll_source_once(env.settings, "ALB")
    assert result.status == "ok" and result.deleted == 180, result.describe()
    assert sum(deletes_per_transaction) == 180 and max(deletes_per_transaction) <= 50, deletes_per_transaction
    assert_exact(env)
