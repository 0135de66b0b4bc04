"""The wal strategy: a source's changes as its write-ahead log streams them (logical replication
with the built-in `pgoutput` plugin), so a poll costs what changed, not what the table holds,
and deletes and TRUNCATE arrive as events.

Exact start: the slot is created with an exported snapshot, and the initial read runs in that
snapshot as an xmin read (`capture/xmin.py`) from the stored xmin watermark, or of every row
when there is none to trust. The stream then starts at the slot's consistent point: each commit
is either in the snapshot or in the stream, never both, never neither. A source that xmin
synced so far switches without a full reload: its xmin read from the stored watermark in that
snapshot is exact by the xmin argument.

Exactly-once effect: a poll applies whole transactions (a large one in several batches, with the
position kept before it until its commit is applied), saves the commit's end LSN as the
watermark, and only then confirms it to the slot (`confirm`). A crash anywhere replays from the
slot: from the saved watermark, and applying a suffix of the stream again sets each row to
the state it already has. A failed poll drops its stream, so the next one restarts from the
watermark rather than after the messages it read and did not apply.

The slot's confirmed position is never ahead of the central watermark. When it is (the slot was
made again, central restored), or the slot is gone or invalidated, the source resyncs by itself:
a new slot and an initial read of every row (rows held at their version cost no writes), with
the reason logged and shown in `/api/v1/sources`.
"""
from __future__ import annotations

import logging
import select
import time
from datetime import datetime, timezone
from typing import Iterator

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from pisa import db
from pisa.errors import SchemaMismatch, SourceUnavailable
from pisa.source_schema import INDEX_COLUMNS
from pisa.sync.capture import Capture, ChangeBatch
from pisa.sync.capture import pgoutput
from pisa.sync.capture.replication import drop_product_slots, slot_status
from pisa.sync.capture.xmin import XminCapture
from pisa.sync.source_reads import fetch_all
from pisa.sync.state import Position, SyncState

log = logging.getLogger(__name__)

# A poll waits this long for the first change (it ends as soon as one arrives, or the runner's
# waker, a run asking for the lease, wakes it). An idle poll still saves the position, whose time
# is the data's age in the API: so an idle source's age stays under about this, and twenty idle
# sources cost twenty small central commits every this many seconds.
WAIT_FOR_CHANGES_S = 0.5
# Inside a transaction the rest of it is coming: wait for it this long at most per message.
MID_TRANSACTION_WAIT_S = 5.0
FEEDBACK_EVERY_S = 1.0          # psycopg2 sends the confirmed position at least this often
ASK_SERVER_EVERY_S = 5.0        # an idle stream asks for the server's position this often
START_RETRY_S = 2.0             # a predecessor's WAL sender may take moments to release the slot
HANDOVER_GRACE_S = 0.05         # ... a few milliseconds after a hand-over; longer: it was cut off
SLOT_CHECK_EVERY_S = 5.0        # WAL retained by the slot, whether it was invalidated, the table still there
CHECK_CATCH_UP_S = 1.0          # a check waits this long at most for the stream to reach its snapshot
# A stream just started decodes from the slot's restart point, through the WAL of every database
# on the server: its first poll waits this long at most to reach the WAL written before it.
STREAM_START_CATCH_UP_S = 10.0
NEEDED = ("id", "cnt") + INDEX_COLUMNS


class WalCapture(Capture):
    """Changes from the source's WAL through the product's replication slot."""

    name = "wal"
    waits_for_changes = True

    def __init__(self, source: str, source_conn, batch_rows: int, *, replication_url: str, slot: str,
                 publication: str, application_name: str = "pisa-sync", replication_conn=None):
        super().__init__(source, source_conn, batch_rows)
        self.replication_url = replication_url
        self.slot = slot
        self.publication = publication
        self.application_name = application_name
        self.replication_conn = replication_conn        # opened ahead (capture_for) or when first needed
        self.cursor = None
        self.initial: XminCapture | None = None
        self.initial_lsn: int | None = None
        self.relation: dict[str, int] | None = None     # column name -> position in a tuple
        self.relation_oid: int | None = None
        self.xid = 0
        self.in_transaction = False
        self.committed_lsn = 0          # end LSN of the last commit read and handed on
        self.confirmable_lsn = 0
        self.drained_at: datetime | None = None
        self.position_confirmed = True
        self.asked_server_at = 0.0
        self.slot_checked_at = float("-inf")
        self.retained_bytes: int | None = None
        self._check_snapshot: XminCapture | None = None
        self._kept_since_truncate: set[int] | None = None
        self._held: list = []                           # read, not applied: the next poll's first
        self._visible: _Visibility | None = None        # while catching up to a check's snapshot
        self._catch_up_to: int | None = None            # a stream just started reads up to here

    # -- the interface --------------------------------------------------------------------

    @property
    def sees_deletes(self) -> bool:
        """The stream carries deletes; an initial read (an xmin read) does not."""
        return self.initial is None

    def begin(self, state: SyncState) -> datetime:
        """Stream from the slot at the stored watermark; or, when the slot and the central copy
        do not meet, make the slot again and read the source in its snapshot."""
        self.position_confirmed = False
        if self.cursor is None:
            reason = self._resync_reason(state)
            if reason is None:
                self._start_stream(state.watermark)
                self._catch_up_to = self._current_wal_lsn()
            else:
                self._initial_read(state, reason)
                return self.initial.snapshot.taken_at
        elif time.monotonic() - self.slot_checked_at >= SLOT_CHECK_EVERY_S:
            self._check_slot()
        return datetime.now(timezone.utc)

    def batches(self) -> Iterator[ChangeBatch]:
        if self.initial is not None:
            yield from self.initial.batches()
            return
        up_to, self._catch_up_to = self._catch_up_to, None
        yield from self._stream_batches(up_to=up_to, catch_up_s=STREAM_START_CATCH_UP_S)

    def read_every_row(self) -> bool:
        return self.initial is not None and self.initial.read_every_row()

    def position(self) -> Position:
        if self.initial is not None:
            return Position(self.initial_lsn, self.initial.snapshot.taken_at)
        return Position(self.confirmable_lsn, self.drained_at)

    def snapshot_intact(self) -> bool:
        return self.initial.snapshot_intact() if self.initial is not None else self._check_snapshot.snapshot_intact()

    def open_check(self) -> Iterator[ChangeBatch]:
        """A check's snapshot, then the stream read on up to it: the transactions the snapshot
        sees are applied first (yielded), the first one it does not see is held back for the
        next poll. So the check compares the central copy and the source at the same point, and
        a difference is drift, not a change in flight."""
        if self.initial is not None:
            return
        self.conn.rollback()
        self._check_snapshot = XminCapture(self.source, self.conn, self.batch_rows)
        self._check_snapshot.begin(SyncState(None, None, 0, "xmin"))
        xmax, in_progress, wal_lsn = fetch_all(self.conn, "source/snapshot_horizon.sql", {})[0]
        self._visible = _Visibility(xmax, frozenset(in_progress))
        try:
            yield from self._stream_batches(up_to=pgoutput.parse_lsn(wal_lsn), catch_up_s=CHECK_CATCH_UP_S)
        finally:
            self._visible = None

    def confirm(self, position: Position) -> None:
        """The central copy committed up to `position`: the slot may let that WAL go."""
        self.position_confirmed = True
        if self.cursor is not None and position.watermark:
            ask = time.monotonic() - self.asked_server_at >= ASK_SERVER_EVERY_S
            self.cursor.send_feedback(flush_lsn=position.watermark, reply=ask)
            if ask:
                self.asked_server_at = time.monotonic()

    def end(self) -> None:
        self.conn.rollback()
        if self.initial is not None:
            self.initial = None
        elif not self.position_confirmed:
            # Messages were read and not applied: the stream must restart at the watermark.
            self._close_stream()

    def close(self) -> None:
        self._close_stream()
        self.conn.close()

    def health(self) -> dict:
        return {"replication_slot": self.slot, "wal_retained_bytes": self.retained_bytes}

    # -- start: the stream, or the slot made again and an initial read ---------------------

    def _resync_reason(self, state: SyncState) -> str | None:
        status = self._check_slot()
        if status is None:
            return f"replication slot {self.slot} does not exist (first use, or dropped)"
        if status.lost:
            return f"replication slot {self.slot} was invalidated (max_slot_wal_keep_size); WAL since is gone"
        if state.capture != "wal" or state.watermark is None:
            return "the central copy was not synced from this slot"
        if status.confirmed_flush_lsn is not None and status.confirmed_flush_lsn > state.watermark:
            return (f"replication slot {self.slot} confirmed {pgoutput.lsn_text(status.confirmed_flush_lsn)}, past "
                    f"the central copy's {pgoutput.lsn_text(state.watermark)} (slot made again, or central restored)")
        return None

    def _check_slot(self):
        status = slot_status(self.conn, self.slot)
        self.slot_checked_at = time.monotonic()
        self.retained_bytes = status.retained_bytes if status else None
        if status is not None and status.lost and self.cursor is not None:
            raise SourceUnavailable(f"replication slot {self.slot} was invalidated (max_slot_wal_keep_size)")
        if status is not None and not status.has_responses:
            raise SchemaMismatch("source has no responses table (renamed or dropped)")
        return status

    def _replication(self):
        if self.replication_conn is None or self.replication_conn.closed:
            self.replication_conn = db.connect_replication(self.replication_url,
                                                           application_name=f"{self.application_name}:{self.source}")
            self.cursor = None
        return self.replication_conn

    def _initial_read(self, state: SyncState, reason: str) -> None:
        switching = state.capture in (None, "xmin") and state.watermark is not None
        if state.capture == "wal":          # a resync: say why, here and in /api/v1/sources
            self.note = f"resynced {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC: {reason}"
            log.warning("%s: %s; reading every row once in a new slot's snapshot to resynchronise",
                        self.source, reason)
        elif switching:
            log.info("%s: switching from xmin to wal: reading the changes since the xmin watermark in the "
                     "new slot's snapshot (no full reload)", self.source)
        else:
            log.info("%s: %s; reading every row in the new slot's snapshot", self.source, reason)
        drop_product_slots(self.replication_url, self.slot)
        with self._replication().cursor() as cur:
            cur.execute(sql.SQL(db.load_command("source/create_replication_slot.sql")).format(
                slot=sql.Identifier(self.slot)))
            _, consistent_point, snapshot, _ = cur.fetchone()
        self.initial_lsn = pgoutput.parse_lsn(consistent_point)
        self.conn.rollback()
        with self.conn.cursor() as cur:     # exported until the replication connection's next command
            cur.execute(db.load_sql("source/adopt_snapshot.sql"), {"snapshot": snapshot})
        self.initial = XminCapture(self.source, self.conn, self.batch_rows)
        self.initial.begin(SyncState(state.watermark if switching else None, None, 0, "xmin"))

    def _start_stream(self, watermark: int) -> None:
        """Start streaming at `watermark`. Called under the lease, so a reader still on the slot
        is a previous holder: one handing over lets go within milliseconds; one that lost its
        lease while hung (stopped, cut off) would keep the slot until wal_sender_timeout, so its
        WAL sender is ended."""
        started = time.monotonic()
        while True:
            cursor = self._replication().cursor()
            try:
                cursor.start_replication(slot_name=self.slot, decode=False, start_lsn=watermark,
                                         status_interval=FEEDBACK_EVERY_S,
                                         options={"proto_version": "1", "publication_names": self.publication})
                break
            except psycopg2.errors.ObjectInUse:       # the connection stays usable: retry on it
                cursor.close()
                waited_s = time.monotonic() - started
                if waited_s > START_RETRY_S:
                    raise SourceUnavailable(f"replication slot {self.slot} is still in use by another reader")
                if waited_s > HANDOVER_GRACE_S:
                    self._end_previous_reader()
                time.sleep(0.002)
        self.cursor = cursor
        self.committed_lsn = self.confirmable_lsn = watermark
        self.in_transaction = False
        self.relation = None
        self.stream_started_at, self.caught_up_at = time.monotonic(), None
        log.debug("%s: streaming from slot %s at %s (started in %.1f ms)", self.source, self.slot,
                  pgoutput.lsn_text(watermark), (self.stream_started_at - started) * 1000)

    def _end_previous_reader(self) -> None:
        status = slot_status(self.conn, self.slot)
        if status is not None and status.active_pid is not None:
            log.warning("%s: ending WAL sender %d, which kept replication slot %s after its runner lost the "
                        "sync lease", self.source, status.active_pid, self.slot)
            try:
                fetch_all(self.conn, "source/end_slot_reader.sql", {"pid": status.active_pid})
            finally:
                self.conn.rollback()

    def _current_wal_lsn(self) -> int:
        try:
            return pgoutput.parse_lsn(fetch_all(self.conn, "source/current_wal_lsn.sql", {})[0][0])
        finally:
            self.conn.rollback()

    def _close_stream(self) -> None:
        if self.replication_conn is not None and not self.replication_conn.closed:
            self.replication_conn.close()
        self.replication_conn = self.cursor = None
        self._held.clear()
        self._kept_since_truncate = None

    def pause(self) -> None:
        """Give the slot up (another runner borrows the source); the next poll streams again
        from the central watermark, which that runner moved."""
        self._close_stream()

    # -- the stream ----------------------------------------------------------------------

    def _next_event(self, wait_s: float):
        """The next message; or None when none came within `wait_s` or the waker woke. The
        server's keepalives (one each time the server's WAL moves, whichever database wrote it)
        are answered by psycopg2 and do not end the wait: ending it made every central commit
        wake twenty streams into a poll, whose own commit woke them again."""
        if self._held:
            return self._held.pop(0)
        message = self.cursor.read_message()
        deadline = time.monotonic() + wait_s
        while message is None and (left := deadline - time.monotonic()) > 0:
            waker = self.waker
            if waker is not None and waker.woken():
                break
            select.select([self.cursor] if waker is None else [self.cursor, waker], [], [], left)
            message = self.cursor.read_message()
        return None if message is None else pgoutput.decode(message.payload)

    def _stream_batches(self, up_to: int | None = None, catch_up_s: float = 0.0) -> Iterator[ChangeBatch]:
        """The changes available now, in batches (waiting WAIT_FOR_CHANGES_S for the first);
        with `up_to`, until the stream passed that WAL position (or `catch_up_s` went by), and
        while catching up to a check's snapshot only the transactions it sees."""
        pending = _PendingChanges()
        waited = False
        catch_up_until = time.monotonic() + catch_up_s
        while True:
            if self.in_transaction:
                wait_s = MID_TRANSACTION_WAIT_S
            elif up_to is not None:
                reached = self._stream_lsn() >= up_to
                if reached or time.monotonic() >= catch_up_until:
                    if reached and self._visible is None:     # a stream's start, not a check's
                        self.caught_up_at = time.monotonic()
                    break
                wait_s = 0.01
                self._ask_server()
            else:
                wait_s = 0 if waited or pending else WAIT_FOR_CHANGES_S
            event = self._next_event(wait_s)
            waited = True
            if event is None:
                if self.in_transaction:
                    raise SourceUnavailable(f"the stream stopped inside transaction {self.xid} for "
                                            f"{MID_TRANSACTION_WAIT_S:.0f} s")
                if up_to is None:
                    break
                continue
            if self._visible is not None and isinstance(event, pgoutput.Begin) and not self._visible.sees(event.xid):
                self._held.append(event)        # after the check's snapshot: the next poll's
                break
            truncating = isinstance(event, pgoutput.Truncate) and self.relation_oid in event.oids
            if truncating and pending:
                yield self._batch(pending)      # what came before the truncate is applied first
                pending = _PendingChanges()
            ends_truncation = isinstance(event, pgoutput.Commit) and self._kept_since_truncate is not None
            self._take(event, pending)
            if ends_truncation or len(pending) >= self.batch_rows:
                yield self._batch(pending)
                pending = _PendingChanges()
        self.drained_at = datetime.now(timezone.utc)
        if pending:
            yield self._batch(pending)
        # At a transaction boundary every commit before the stream's position is applied (a
        # held-back Begin sits before its own commit), so that position may be confirmed even
        # when nothing of ours changed. It is also never behind what psycopg2 confirms by itself
        # (a keepalive's position, once everything read was confirmed): so the slot's confirmed
        # position is past the saved watermark only when the central copy lost something.
        self.confirmable_lsn = self._stream_lsn()

    def _stream_lsn(self) -> int:
        return max(self.committed_lsn, self.cursor.wal_end or 0)

    def _ask_server(self) -> None:
        """Ask the server for a keepalive, which carries how far it has decoded (at most every
        10 ms while catching up)."""
        if time.monotonic() - self.asked_server_at >= 0.01:
            self.cursor.send_feedback(reply=True)
            self.asked_server_at = time.monotonic()

    def _take(self, event, pending: "_PendingChanges") -> None:
        kept = self._kept_since_truncate
        if isinstance(event, pgoutput.Begin):
            self.xid, self.in_transaction = event.xid, True
        elif isinstance(event, pgoutput.Commit):
            self.in_transaction = False
            self.committed_lsn = event.end_lsn
            if kept is not None:                # the source holds these ids and no others now
                pending.keep_only = frozenset(kept)
                self._kept_since_truncate = None
        elif isinstance(event, pgoutput.Relation):
            if event.name == "responses":
                missing = [name for name in NEEDED if name not in event.columns]
                if missing:
                    raise SchemaMismatch(f"source table responses lacks a needed column: {', '.join(missing)}")
                self.relation = {name: event.columns.index(name) for name in NEEDED}
                self.relation_oid = event.oid
        elif isinstance(event, pgoutput.Truncate):
            if self.relation_oid in event.oids:
                self._kept_since_truncate = set()
        elif isinstance(event, (pgoutput.Insert, pgoutput.Update, pgoutput.Delete)) and event.oid == self.relation_oid:
            if isinstance(event, pgoutput.Delete):
                self._gone(int(event.old[self.relation["id"]]), pending)
                return
            row = self._row(event.new)
            if isinstance(event, pgoutput.Update) and event.old is not None:
                old_id = int(event.old[self.relation["id"]])
                if old_id != row[0]:
                    self._gone(old_id, pending)         # the key itself changed
            pending.put(row)
            if kept is not None:
                kept.add(row[0])

    def _gone(self, row_id: int, pending: "_PendingChanges") -> None:
        pending.delete(row_id)
        if self._kept_since_truncate is not None:
            self._kept_since_truncate.discard(row_id)

    def _row(self, values: tuple) -> tuple:
        at = self.relation
        return (int(values[at["id"]]), self.xid, *(values[at[name]] for name in NEEDED[1:]))

    def _batch(self, pending: "_PendingChanges") -> ChangeBatch:
        """The pending changes with their content hashes (computed by the source, as xmin's
        read does); rows whose values the stream left out are read from the table."""
        sent, unsent = [], []
        for row in pending.rows():
            if pgoutput.UNCHANGED_TOAST in row:
                unsent.append(row[0])
            else:
                sent.append(row)
        rows = []
        try:
            if sent:
                columns = dict(zip(NEEDED[1:], list(zip(*sent))[2:]))
                hashes = fetch_all(self.conn, "source/content_hashes.sql", {k: list(v) for k, v in columns.items()})
                rows = [row + (content_hash,) for row, (content_hash,) in zip(sent, hashes)]
            if unsent:
                rows += fetch_all(self.conn, "source/rows_by_id.sql", {"ids": unsent})
        finally:
            self.conn.rollback()       # no snapshot held open between batches (see open_check)
        return ChangeBatch(rows, pending.deleted_ids(), keep_only_ids=pending.keep_only)


class _Visibility:
    """Which transactions a snapshot sees: those below its xmax that were not in progress."""

    def __init__(self, xmax: int, in_progress: frozenset[int]):
        self.xmax = xmax
        self.in_progress = in_progress

    def sees(self, xid: int) -> bool:
        full = (self.xmax & ~0xFFFFFFFF) | xid        # the stream's 32-bit xid, with xmax's epoch
        if full >= self.xmax:
            full -= 1 << 32
        return full < self.xmax and full not in self.in_progress


class _PendingChanges:
    """The net effect of the changes read since the last batch: per id, its last state (a row,
    or gone); `keep_only`: a TRUNCATE committed, and the source holds only these ids now."""

    def __init__(self):
        self._state: dict[int, tuple | None] = {}
        self.keep_only: frozenset[int] | None = None

    def __len__(self) -> int:
        return len(self._state)

    def put(self, row: tuple) -> None:
        self._state[row[0]] = row

    def delete(self, row_id: int) -> None:
        self._state[row_id] = None

    def rows(self) -> list[tuple]:
        return [row for row in self._state.values() if row is not None]

    def deleted_ids(self) -> list[int]:
        return sorted(row_id for row_id, row in self._state.items() if row is None)
