"""Capture strategies: how a sync finds what changed in a source since its last position.

Each strategy is one module behind the small interface below, and the runner depends on the
interface only: `begin` opens a consistent read of the source from the stored sync state,
`batches` streams what changed, `position` says how far that read reaches (saved in the central
DB once the batches committed), `confirm` tells the source the position is safe (a replication
slot may then free its WAL; xmin needs nothing), and `end` closes the read.

  xmin   rows whose version (xmin) is at or after the last snapshot's xmin; deletes are left to
         reconcile. Needs nothing but SELECT. (`capture/xmin.py`)
  wal    the source's write-ahead log through a logical replication slot (`pgoutput`): costs
         what changed, sees deletes and TRUNCATE. (`capture/wal.py`, decoding in `pgoutput.py`,
         slots and readiness in `replication.py`)

`capture_for` picks one per source from PISA_CAPTURE: auto takes wal where the source allows it
and says why not otherwise (`Capture.note`, shown in /api/v1/sources).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from pisa.config import Settings
from pisa.sync.state import Position, SyncState


@dataclass(frozen=True)
class ChangeBatch:
    """Changed rows as the source holds them now, (id, version, cnt, escs, tmins, belong,
    durecec, content_hash), and ids of rows the source no longer holds. The content hash is
    `hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0)`, of the raw texts the
    figures depend on, as the source queries compute it. `whole_ids`: the batch holds every
    source row of each of its ids (a reconcile's repair read), not only the changed ones.
    `keep_only_ids`: after this batch the source holds only these ids (a TRUNCATE committed,
    maybe with a reload: the ids written back keep their first arrival)."""

    rows: list[tuple]
    deleted_ids: list[int] = field(default_factory=list)
    whole_ids: bool = False
    keep_only_ids: frozenset[int] | None = None     # a TRUNCATE: the source holds only these ids


class Capture(ABC):
    """One way of finding a source's changes, over a connection its runner owns."""

    name: str
    sees_deletes: bool = False      # False: each poll also checks the row counts for deletes
    waits_for_changes: bool = False  # True: a poll waits for changes itself, so is never paced
    note: str | None = None         # why this strategy (a fallback), or the last resync's reason
    stream_started_at: float | None = None   # a streaming capture: when its stream last started (monotonic)
    caught_up_at: float | None = None        # ... and when it then reached the WAL written before it
    # A capture that waits for changes also ends its wait when this wakes: an object with
    # `fileno()` to select on and `woken()` to say whether it counts (the runner's lease: a run
    # asking for it).
    waker = None

    def __init__(self, source: str, source_conn, batch_rows: int):
        self.source = source
        self.conn = source_conn
        self.batch_rows = batch_rows

    @abstractmethod
    def begin(self, state: SyncState) -> datetime:
        """Open a consistent read of the source from the stored `state` (its watermark is this
        strategy's only when `state.capture` names it); the source's time at its start, when
        the rows first seen in it arrived for us."""

    @abstractmethod
    def batches(self) -> Iterator[ChangeBatch]:
        """The changes since the watermark, in batches of at most `batch_rows` rows."""

    @abstractmethod
    def position(self) -> Position:
        """How far the read reaches: the next watermark and the source time it reflects."""

    def snapshot_intact(self) -> bool:
        """Whether the open read still sees the source table as it is (default: always)."""
        return True

    def read_every_row(self) -> bool:
        """Whether the open read covers every row of the source (a first sync, a resync): as
        thorough as a full check, so it counts as one (default: no)."""
        return False

    def open_check(self) -> Iterator[ChangeBatch]:
        """Before a delete check or reconcile in this poll: make the read one they can compare
        with the central copy, yielding what must be applied first (default: nothing, the read
        `begin` opened already is)."""
        return iter(())

    def pause(self) -> None:
        """Another runner borrows the source for a while (default: nothing to give up)."""

    def confirm(self, position: Position) -> None:
        """The central DB committed everything up to `position` (default: nothing to tell)."""

    def end(self) -> None:
        """Close the read (also after a failure)."""
        self.conn.rollback()

    def health(self) -> dict:
        """What /api/v1/sources shows of the capture beyond its name (default: nothing)."""
        return {}

    def close(self) -> None:
        """Close the capture's connections."""
        self.conn.close()


def capture_for(settings: Settings, source: str, source_conn, application_name: str) -> Capture:
    """The capture strategy of a source (PISA_CAPTURE): with auto, wal where the source allows
    it, else xmin with the reason in `note`. A forced wal that cannot run raises the reason."""
    from pisa.errors import SourceUnavailable
    from pisa.sync.capture.replication import slot_name, unavailable_reason
    from pisa.sync.capture.wal import WalCapture
    from pisa.sync.capture.xmin import XminCapture
    if settings.capture != "xmin":
        replication_conn = None
        reason = unavailable_reason(source_conn, settings.publication)
        if reason is None:
            replication_conn, reason = _replication_connection(settings, source, application_name)
        if reason is None:
            return WalCapture(source, source_conn, settings.batch_rows, replication_url=settings.source_url(source),
                              slot=slot_name(settings, source), publication=settings.publication,
                              application_name=application_name, replication_conn=replication_conn)
        if settings.capture == "wal":
            raise SourceUnavailable(f"PISA_CAPTURE is wal, but logical replication is unavailable: {reason}")
        capture = XminCapture(source, source_conn, settings.batch_rows)
        capture.note = f"logical replication unavailable: {reason}"
        return capture
    return XminCapture(source, source_conn, settings.batch_rows)


def _replication_connection(settings: Settings, source: str, application_name: str) -> tuple:
    """A replication connection to the source, opened now (a runner connects before it takes the
    lease, so a hand-over has no connect in its gap); or None and why the source refused it."""
    from pisa import db
    from pisa.errors import SourceUnavailable
    try:
        return db.connect_replication(settings.source_url(source), application_name=f"{application_name}:{source}"), None
    except SourceUnavailable as exc:
        return None, f"{exc} (pg_hba.conf needs a replication line for this client)"
