"""Where a source's sync stands, in the central `sync_state` table: read, move, record.

The position (the capture strategy's watermark and the source time it reflects) moves in its
own transaction after the poll's batches committed, so a crash between them repeats those
batches (harmless: a re-applied row meets its own version) and never skips one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pisa import db
from pisa.sync.session import SyncSession

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class SyncState:
    """Where a source's sync stands, as committed in the central DB."""

    watermark: int | None
    synced_through: datetime | None
    rows: int
    capture: str | None = None       # the strategy whose watermark it is (None: xmin, from before wal)


@dataclass(frozen=True)
class Position:
    """How far a poll read: the watermark the next poll starts from, and the source time the
    changes up to it reflect (the source's clock just before its snapshot)."""

    watermark: int | None
    synced_through: datetime


def load_state(session: SyncSession) -> SyncState:
    """The committed watermark, synced-through time and row count of the session's source."""
    return SyncState(*session.run("central/load_sync_state.sql")[0])


def save_position(session: SyncSession, position: Position, *, capture: str, capture_note: str | None,
                  capture_health: dict, rows: int, poll_ms: float, poll_interval_s: float | None) -> None:
    """Move the watermark to `position` (of strategy `capture`) and record the poll (clears the
    last error)."""
    with session.transaction() as cur:
        cur.execute(db.load_sql("central/save_position.sql"), {
            "source": session.source, "watermark": position.watermark,
            "synced_through": position.synced_through, "rows": rows, "poll_ms": poll_ms,
            "poll_interval_s": poll_interval_s, "capture": capture, "capture_note": capture_note,
            "replication_slot": capture_health.get("replication_slot"),
            "wal_retained_bytes": capture_health.get("wal_retained_bytes")})


def record_error(session: SyncSession, message: str) -> None:
    """Record a failed poll (best effort: the central DB itself may be what failed)."""
    try:
        session.rollback()
        session.run("central/record_sync_error.sql", error=message[:MAX_ERROR_CHARS])
    except Exception as exc:  # the original error matters more than this one
        log.warning("%s: could not record the error in sync_state: %s", session.source, db.first_line(exc))


def record_reconcile(session: SyncSession, note: str) -> None:
    """Record the outcome of a reconcile pass."""
    session.run("central/record_reconcile.sql", note=note)
