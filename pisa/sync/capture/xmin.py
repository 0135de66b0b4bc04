"""The xmin strategy: rows whose version (xmin) is at or after the last snapshot's xmin.

Why this is complete without timestamps: a poll takes its snapshot and reads its rows in the
same REPEATABLE READ transaction. A row version first visible at poll k was invisible at poll
k-1, so its xid was still running or not yet assigned then: it is >= poll k-1's snapshot xmin,
the watermark. Nothing committed is skipped; some rows come back twice (the apply step skips
rows whose version it already holds). Deletes are invisible to xmin: reconcile finds them.

The cost is a scan of the source table per poll: it grows with every row ever written.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from pisa.sync.capture import Capture, ChangeBatch
from pisa.sync.source_reads import fetch_all, stream_rows
from pisa.sync.state import Position, SyncState

log = logging.getLogger(__name__)

# age() compares 32-bit xids modulo 2**32; a watermark further behind than this can no longer be
# compared safely, so the next poll reads everything (and the apply step skips what it holds).
MAX_WATERMARK_AGE = 2**31 - 2**24


@dataclass(frozen=True)
class SourceSnapshot:
    """The snapshot one poll reads in: its xmin and xmax (64-bit) and the time it was taken."""

    xmin: int
    xmax: int
    taken_at: datetime
    table_file: int


class XminCapture(Capture):
    """Changed rows by row version against the previous poll's snapshot (SELECT only)."""

    name = "xmin"

    def begin(self, state: SyncState) -> datetime:
        """Start the poll's REPEATABLE READ transaction and decide where to read from (every row
        when the stored watermark is another strategy's)."""
        self.snapshot = SourceSnapshot(*fetch_all(self.conn, "source/snapshot.sql", {})[0])
        watermark = state.watermark if state.capture in (None, self.name) else None
        if state.capture not in (None, self.name) and state.watermark is not None:
            log.info("%s: switching from %s to xmin: reading every row once (rows held at their version "
                     "cost no writes)", self.source, state.capture)
        self.read_from = usable_watermark(self.source, watermark, self.snapshot)
        return self.snapshot.taken_at

    def batches(self) -> Iterator[ChangeBatch]:
        """Rows whose xmin is at or after the watermark (every row when there is none)."""
        for rows in stream_rows(self.conn, "source/changed_rows.sql", {"watermark": self.read_from},
                                self.batch_rows):
            yield ChangeBatch(rows)

    def snapshot_intact(self) -> bool:
        """False when a table rewrite committed after the snapshot (it would see the table
        empty). Once this transaction has read the table it holds a lock no rewrite can pass,
        so a True after a read stays true until `end`."""
        return fetch_all(self.conn, "source/table_file.sql", {})[0][0] == self.snapshot.table_file

    def read_every_row(self) -> bool:
        return self.read_from is None

    def position(self) -> Position:
        """The snapshot's xmin: every later change has an xid at or after it."""
        return Position(self.snapshot.xmin, self.snapshot.taken_at)


def usable_watermark(source: str, watermark: int | None, snapshot: SourceSnapshot) -> int | None:
    """The watermark to read from, or None to read every row when it cannot be trusted."""
    if watermark is None:
        return None
    if watermark > snapshot.xmin:
        log.warning("%s: stored watermark %s is ahead of the source's snapshot xmin %s (source "
                    "restored or moved?); reading every row once to resynchronise",
                    source, watermark, snapshot.xmin)
        return None
    if snapshot.xmax - watermark > MAX_WATERMARK_AGE:     # age() counts back from about xmax
        log.warning("%s: stored watermark %s is too far behind %s to compare across xid "
                    "wraparound; reading every row once", source, watermark, snapshot.xmin)
        return None
    return watermark
