"""Capture strategies: how a sync finds what changed in a source since its last position.

Each strategy is one module behind the small interface below, and the runner depends on the
interface only: `begin` opens a consistent read of the source from the stored watermark,
`batches` streams what changed, `position` says how far that read reaches (saved in the central
DB once the batches committed), `confirm` tells the source the position is safe (a replication
slot may then free its WAL; xmin needs nothing), and `end` closes the read.

  xmin   rows whose version (xmin) is at or after the last snapshot's xmin; deletes are left to
         reconcile. Needs nothing but SELECT. (`capture/xmin.py`)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from pisa.sync.state import Position


@dataclass(frozen=True)
class ChangeBatch:
    """Changed rows as the source holds them now, (id, version, cnt, escs, tmins, belong,
    durecec, content_hash), and ids of rows the source no longer holds. The content hash is
    `hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0)`, of the raw texts the
    figures depend on, as the source queries compute it. `whole_ids`: the batch holds every
    source row of each of its ids (a reconcile's repair read), not only the changed ones."""

    rows: list[tuple]
    deleted_ids: list[int] = field(default_factory=list)
    whole_ids: bool = False


class Capture(ABC):
    """One way of finding a source's changes, over a connection its runner owns."""

    name: str
    sees_deletes: bool = False      # False: each poll also checks the row counts for deletes

    def __init__(self, source: str, source_conn, batch_rows: int):
        self.source = source
        self.conn = source_conn
        self.batch_rows = batch_rows

    @abstractmethod
    def begin(self, watermark: int | None) -> datetime:
        """Open a consistent read of the source from `watermark` (None: from the start); the
        source's time at its start, when the rows first seen in it arrived for us."""

    @abstractmethod
    def batches(self) -> Iterator[ChangeBatch]:
        """The changes since the watermark, in batches of at most `batch_rows` rows."""

    @abstractmethod
    def position(self) -> Position:
        """How far the read reaches: the next watermark and the source time it reflects."""

    def snapshot_intact(self) -> bool:
        """Whether the open read still sees the source table as it is (default: always)."""
        return True

    def confirm(self, position: Position) -> None:
        """The central DB committed everything up to `position` (default: nothing to tell)."""

    def end(self) -> None:
        """Close the read (also after a failure)."""
        self.conn.rollback()


def capture_for(source: str, source_conn, batch_rows: int) -> Capture:
    """The capture strategy of a source."""
    from pisa.sync.capture.xmin import XminCapture
    return XminCapture(source, source_conn, batch_rows)
