"""Reconcile at the edges: table rewrites, rows back at an old version, old central databases."""
from __future__ import annotations

import threading
import time

import pytest

from pisa.sync.runner import poll_source_once
from tests.ground_truth import assert_exact, central_figures, sync_and_reconcile


REWRITES = {
    "a rewriting ALTER TABLE": "ALTER TABLE responses ADD COLUMN extra text DEFAULT md5(random()::text)",
    "TRUNCATE and reload": "CREATE TEMP TABLE kept AS SELECT * FROM responses; TRUNCATE responses; "
                           "INSERT INTO responses SELECT * FROM kept",
}


@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_table_rewrite_during_reconcile_never_drops_a_country_nor_moves_first_seen(env, rewrite):
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
    result = poll_source_once(env.settings, "ALB", reconcile_after=True)
    thread.join()
    rewriter.close()
    assert result.status == "ok" and result.reconcile.skipped is not None, result.describe()
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
