"""What only the wal strategy does, against the real PostgreSQL: deletes and TRUNCATE from the
stream, an exact start and switch, slot loss and resync, slots that do not outlive their stack,
an idle slot that lets WAL go, one reader per slot at a hand-over. (The ground-truth comparisons
every strategy must pass are in test_sync.py, run once per strategy.)"""
from __future__ import annotations

import signal
import struct
import subprocess
import sys
import threading
import time

import pytest

from pisa import db
from pisa.central_setup import init_central
from pisa.sources.writer import Simulator
from pisa.sync.capture import pgoutput
from pisa.sync.capture.replication import slot_name
from pisa.sync.capture.wal import WAIT_FOR_CHANGES_S, WalCapture
from pisa.sync.lease import Lease
from pisa.sync.runner import SourceRunner, poll_source_once
from pisa.sync.slots import stream_slot
from tests.ground_truth import assert_exact, central_figures, source_figures, sync_and_reconcile
from tests.rows import insert_row


def source_run(env, source: str, *statements) -> None:
    conn = env.source_conn(source)
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.commit()
    conn.close()


def slots_of(env, source: str) -> list[tuple]:
    """(slot name, confirmed flush LSN, WAL retained) of the source database's slots."""
    conn = env.source_conn(source)
    with conn.cursor() as cur:
        cur.execute("SELECT slot_name, confirmed_flush_lsn::text, pg_current_wal_lsn() - restart_lsn "
                    "FROM pg_replication_slots WHERE database = current_database()")
        found = cur.fetchall()
    conn.close()
    return found


def test_pgoutput_messages_decode_to_their_fields():
    def text_tuple(*values):
        data = struct.pack("!h", len(values))
        for value in values:
            if value is None:
                data += b"n"
            else:
                data += b"t" + struct.pack("!i", len(value)) + value.encode()
        return data
    begin = b"B" + struct.pack("!Qqi", 0x16B374D848, 86_400_000_000, 7321)
    assert pgoutput.decode(begin) == pgoutput.Begin(0x16B374D848, pgoutput.POSTGRES_EPOCH.replace(day=2), 7321)
    relation = (b"R" + struct.pack("!I", 16385) + b"public\0responses\0" + struct.pack("!bh", 100, 2)
                + struct.pack("!b", 1) + b"id\0" + struct.pack("!Ii", 23, -1)
                + struct.pack("!b", 0) + b"escs\0" + struct.pack("!Ii", 25, -1))
    assert pgoutput.decode(relation) == pgoutput.Relation(16385, "public", "responses", ("id", "escs"))
    assert pgoutput.decode(b"I" + struct.pack("!I", 16385) + b"N" + text_tuple("5", "0.25")) == \
        pgoutput.Insert(16385, ("5", "0.25"))
    update = b"U" + struct.pack("!I", 16385) + b"K" + text_tuple("5", None) + b"N" + text_tuple("6", None)
    assert pgoutput.decode(update) == pgoutput.Update(16385, ("5", None), ("6", None))
    assert pgoutput.decode(b"D" + struct.pack("!I", 16385) + b"K" + text_tuple("6", None)) == \
        pgoutput.Delete(16385, ("6", None))
    assert pgoutput.decode(b"T" + struct.pack("!ib", 1, 0) + struct.pack("!I", 16385)) == pgoutput.Truncate((16385,))
    commit = b"C" + struct.pack("!bQQq", 0, 0x100, 0x128, 0)
    assert pgoutput.decode(commit) == pgoutput.Commit(0x100, 0x128, pgoutput.POSTGRES_EPOCH)
    unchanged = b"I" + struct.pack("!I", 1) + b"N" + struct.pack("!h", 1) + b"u"
    assert pgoutput.decode(unchanged).new == (pgoutput.UNCHANGED_TOAST,)
    with pytest.raises(pgoutput.DecodeError, match="unknown pgoutput message"):
        pgoutput.decode(b"Z")
    assert pgoutput.parse_lsn(pgoutput.lsn_text(0x16B374D848)) == 0x16B374D848 and pgoutput.lsn_text(0x16B374D848) == "16/B374D848"


def test_deletes_leave_with_the_next_poll_from_the_stream_without_a_count_check(env):
    sync_and_reconcile(env)
    source_run(env, "ALB", "DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY id LIMIT 3)")
    result = poll_source_once(env.settings, "ALB")
    assert (result.capture, result.deleted, result.deletes) == ("wal", 3, None), result.describe()
    assert central_figures(env) == source_figures(env)
    assert_exact(env)


def test_truncate_and_reload_keep_first_arrivals_and_truncate_alone_empties_the_country(env):
    sync_and_reconcile(env)
    central = env.central_conn()
    with central.cursor() as cur:
        cur.execute("SELECT id, first_seen FROM facts WHERE source = 'ARG'")
        first_seen = dict(cur.fetchall())
    source_run(env, "ARG", "CREATE TEMP TABLE kept AS SELECT * FROM responses WHERE id % 2 = 0",
               "TRUNCATE responses", "INSERT INTO responses SELECT * FROM kept")
    result = poll_source_once(env.settings, "ARG")
    assert result.status == "ok" and result.deleted > 0 and result.inserted == 0, result.describe()
    assert_exact(env)
    with central.cursor() as cur:
        cur.execute("SELECT id, first_seen FROM facts WHERE source = 'ARG'")
        assert all(first_seen[row_id] == seen for row_id, seen in cur.fetchall())
    source_run(env, "ARG", "TRUNCATE responses")
    insert_row(conn := env.source_conn("ALB"), 4_000_001)           # another source flows on
    conn.commit(), conn.close()
    assert all(r.status == "ok" for r in (poll_source_once(env.settings, s) for s in ("ARG", "ALB")))
    assert "ARG" not in central_figures(env) and "ARG" not in source_figures(env)
    assert_exact(env)
    central.close()


def test_an_update_that_changes_a_rows_id_moves_it(env):
    sync_and_reconcile(env)
    source_run(env, "AUS", "UPDATE responses SET id = 9000001, escs = '1.5' WHERE id = (SELECT min(id) FROM responses)")
    assert poll_source_once(env.settings, "AUS").deleted == 1
    assert_exact(env)


def test_a_source_xmin_synced_switches_to_wal_reading_only_its_changes(make_env):
    env = make_env(capture="xmin")
    sync_and_reconcile(env)
    writer = env.source_conn("ALB")
    for row_id in (5_000_001, 5_000_002):
        insert_row(writer, row_id)
    writer.commit()
    switched = poll_source_once(env.settings.replace(capture="wal"), "ALB")
    assert switched.status == "ok" and switched.capture == "wal", switched.describe()
    assert switched.read < 20 and switched.inserted == 2      # the changes since the watermark, not 200 rows
    insert_row(writer, 5_000_003)
    writer.commit(), writer.close()
    assert poll_source_once(env.settings.replace(capture="wal"), "ALB").inserted == 1
    assert env.sync_state("ALB")["capture"] == "wal"
    back = poll_source_once(env.settings, "ALB")                # and back to xmin: one full read
    assert (back.capture, back.read, back.changed) == ("xmin", 203, 0)
    assert_exact(env)


def test_a_dropped_slot_is_noticed_and_the_source_resyncs_by_itself_saying_why(env):
    sync_and_reconcile(env)
    slot = slot_name(env.settings, "ALB")
    assert db.drop_replication_slots(env.settings.source_url("ALB"), slot) == [slot]
    source_run(env, "ALB", "DELETE FROM responses WHERE id = (SELECT min(id) FROM responses)",
               "UPDATE responses SET tmins = '42' WHERE id = (SELECT max(id) FROM responses)")
    result = poll_source_once(env.settings, "ALB")
    assert result.status == "ok" and result.read >= 199 and result.changed == 1 and result.deleted == 1, \
        result.describe()
    assert "does not exist" in env.sync_state("ALB")["note"]
    assert [name for name, *_ in slots_of(env, "ALB")] == [slot]
    assert_exact(env)


def test_a_slot_confirmed_past_the_central_copy_is_not_trusted(env):
    sync_and_reconcile(env)
    central = env.central_conn()
    with central.cursor() as cur:                 # as if central were restored from an older backup
        cur.execute("UPDATE sync_state SET watermark = 1 WHERE source = 'ARG'")
    central.close()
    source_run(env, "ARG", "DELETE FROM responses WHERE id = (SELECT min(id) FROM responses)")
    result = poll_source_once(env.settings, "ARG")
    assert result.status == "ok" and result.deleted == 1 and "past the central copy" in env.sync_state("ARG")["note"]
    assert_exact(env)


def test_forced_wal_on_a_source_without_a_publication_fails_with_the_reason(env):
    source_run(env, "AUS", "DROP PUBLICATION pisa_responses")
    forced = poll_source_once(env.settings.replace(capture="wal"), "AUS")
    assert forced.status == "failed" and "PISA_CAPTURE is wal, but logical replication is unavailable: " \
        "no publication pisa_responses" in forced.error
    auto = poll_source_once(env.settings, "AUS")
    assert (auto.status, auto.capture) == ("ok", "xmin")
    assert env.sync_state("AUS")["note"].startswith("logical replication unavailable: no publication")


def test_slot_names_are_per_stack_and_no_stack_leaves_slots_behind(make_env):
    first, second = make_env(sources=("ALB", "ARG")), make_env(sources=("ALB", "ARG"))
    assert slot_name(first.settings, "ALB") != slot_name(second.settings, "ALB")
    assert len(slot_name(first.settings, "ALB")) <= 63
    sync_and_reconcile(first)
    assert [name for name, *_ in slots_of(first, "ALB")] == [slot_name(first.settings, "ALB")]
    assert first.sync_state("ALB")["slot"] == slot_name(first.settings, "ALB")

    init_central(first.settings.replace(sources=("ALB",)))      # ARG removed from the stack
    assert slots_of(first, "ARG") == [] and len(slots_of(first, "ALB")) == 1
    init_central(first.settings, reset=True)                     # a reset starts from new slots
    assert slots_of(first, "ALB") == []
    sync_and_reconcile(first)
    assert_exact(first)
    environment = {"PATH": "/usr/bin:/bin", "PISA_CENTRAL_URL": first.settings.central_url,
                   "PISA_SOURCE_URL_TEMPLATE": first.settings.source_url_template, "PISA_SOURCES": "ALB,ARG"}
    dropped = subprocess.run([sys.executable, "-m", "pisa.cli", "slots", "drop"], env=environment,
                             capture_output=True, text=True, timeout=60)
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout.splitlines()[-1] == "Dropped 2 replication slot(s) from 2 source(s)"
    assert slots_of(first, "ALB") == slots_of(first, "ARG") == []


def test_an_idle_slot_lets_go_of_the_wal_other_databases_write(env):
    sync_and_reconcile(env)
    runner = SourceRunner(env.settings, "ALB")
    assert runner.try_acquire()
    try:
        runner.poll()
        central = env.central_conn()
        with central.cursor() as cur:             # ~16 MB of WAL in another database
            cur.execute("CREATE TABLE wal_elsewhere AS SELECT g, md5(g::text) AS filler FROM generate_series(1, 200000) g")
            cur.execute("SELECT pg_current_wal_lsn()::text")
            written_to = pgoutput.parse_lsn(cur.fetchone()[0])
        central.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runner.poll()
            (_, confirmed, retained), = slots_of(env, "ALB")
            if pgoutput.parse_lsn(confirmed) >= written_to:
                break
        assert pgoutput.parse_lsn(confirmed) >= written_to, "the idle slot kept the WAL other databases wrote"
        assert env.sync_state("ALB")["retained"] is not None
    finally:
        runner.close()


def test_a_failure_before_the_central_commit_replays_from_the_slot_and_counts_nothing_twice(env, monkeypatch):
    sync_and_reconcile(env)
    simulator = Simulator(env.settings, rate=300, update_share=0.3, delete_share=0.2, bad_share=0.1, seed=5)
    simulator.run(seconds=1)
    confirmed = []
    monkeypatch.setattr(WalCapture, "confirm", lambda self, position: confirmed.append(position))
    runner = SourceRunner(env.settings, "ALB")
    assert runner.try_acquire()
    try:
        with monkeypatch.context() as patch:      # the central commit fails: nothing confirmed
            patch.setattr("pisa.sync.session.SyncSession.commit",
                          lambda self: (_ for _ in ()).throw(RuntimeError("injected crash before commit")))
            with pytest.raises(RuntimeError, match="injected crash"):
                runner.poll()
        assert confirmed == [] and runner.capture.cursor is None      # the stream restarts at the watermark
        runner.poll()                             # committed, but the slot is never told (a kill -9)
    finally:
        runner.close()
    monkeypatch.undo()
    sync_and_reconcile(env)                       # replays from the slot's older position
    assert_exact(env)


def test_a_follower_killed_with_sigkill_mid_stream_resumes_exactly(env):
    environment = {"PATH": "/usr/bin:/bin", "PISA_CENTRAL_URL": env.settings.central_url,
                   "PISA_SOURCE_URL_TEMPLATE": env.settings.source_url_template,
                   "PISA_SOURCES": ",".join(env.settings.sources)}
    follower = subprocess.Popen([sys.executable, "-m", "pisa.cli", "sync"], env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    simulator = Simulator(env.settings, rate=400, update_share=0.2, delete_share=0.1, bad_share=0.1, seed=9)
    writing = threading.Thread(target=simulator.run, kwargs={"seconds": 3})
    writing.start()
    time.sleep(1.5)
    follower.send_signal(signal.SIGKILL)
    follower.wait(timeout=10)
    writing.join()
    sync_and_reconcile(env)
    assert_exact(env)
    assert {env.sync_state(s)["capture"] for s in env.settings.sources} == {"wal"}


def test_streaming_runs_hand_the_slot_over_within_100_ms(env, monkeypatch):
    sync_and_reconcile(env)
    moments: dict[str, list[float]] = {"closed": [], "streaming": []}
    real_close, real_start = WalCapture._close_stream, WalCapture._start_stream

    def close(self):
        was_streaming = self.cursor is not None
        real_close(self)
        if was_streaming:
            moments["closed"].append(time.monotonic())

    def start(self, watermark):
        real_start(self, watermark)
        moments["streaming"].append(time.monotonic())
    monkeypatch.setattr(WalCapture, "_close_stream", close)
    monkeypatch.setattr(WalCapture, "_start_stream", start)
    settings = env.settings.replace(lease_timeout_seconds=5)
    first = threading.Thread(target=stream_slot, args=(settings, "ALB"), kwargs={"max_seconds": 30})
    first.start()
    time.sleep(1.0)
    second = threading.Thread(target=stream_slot, args=(settings, "ALB"), kwargs={"max_seconds": 1})
    second.start()
    first.join(timeout=10)
    assert not first.is_alive()
    second.join(timeout=10)
    gap_s = moments["streaming"][1] - moments["closed"][0]
    assert 0 < gap_s < 0.1, f"hand-over gap {gap_s * 1000:.0f} ms"


def test_a_run_asking_for_the_lease_wakes_the_holder_at_once(env, monkeypatch):
    sync_and_reconcile(env)
    monkeypatch.setattr("pisa.sync.lease.REQUEST_FALLBACK_S", 60.0)     # only the notification can tell it
    released: list[float] = []
    real_release = Lease.release
    monkeypatch.setattr(Lease, "release", lambda self: (real_release(self), released.append(time.monotonic())))
    settings = env.settings.replace(lease_timeout_seconds=5)
    first = threading.Thread(target=stream_slot, args=(settings, "ALB"), kwargs={"max_seconds": 30})
    first.start()
    time.sleep(1.3)                               # idle: the holder waits for changes
    asked_at = time.monotonic()
    second = threading.Thread(target=stream_slot, args=(settings, "ALB"), kwargs={"max_seconds": 0.5})
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)
    assert not first.is_alive() and not second.is_alive()
    assert released[0] - asked_at < 0.3, f"the holder let go {released[0] - asked_at:.2f} s after the request"


def test_an_idle_stream_is_not_woken_by_what_other_databases_commit(env):
    sync_and_reconcile(env)
    stop = threading.Event()

    def commit_elsewhere():                       # each commit moves the server's WAL: a keepalive
        central = env.central_conn()
        central.autocommit = True
        with central.cursor() as cur:
            while not stop.is_set():
                cur.execute("SELECT txid_current()")
                time.sleep(0.01)
        central.close()
    writer = threading.Thread(target=commit_elsewhere)
    writer.start()
    try:
        summary = stream_slot(env.settings, "ALB", max_seconds=3)
    finally:
        stop.set()
        writer.join()
    assert summary.polls <= 3 / WAIT_FOR_CHANGES_S + 2, f"{summary.polls} polls in 3 idle seconds"


def test_the_slot_name_is_the_same_for_a_url_and_an_airflow_connections_key_value_form(env):
    from psycopg2.extensions import make_dsn, parse_dsn
    parts = parse_dsn(env.settings.central_url)
    key_value = make_dsn(host=parts["host"], port=int(parts["port"]), user=parts["user"], password=None,
                         dbname=parts["dbname"])
    assert slot_name(env.settings.replace(central_url=key_value), "ALB") == slot_name(env.settings, "ALB")
