"""One poll of one source, as a plain loop: read the state, capture the changes batch by batch,
apply each batch, check for deletes (a capture that cannot see them) or reconcile in the same
source snapshot, then move the position.

Used by every runner (the CLI's follower and `--once`, the Airflow slots, the tests): the only
place a batch travels from a source to a central commit.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from pisa.sync.apply import ChangeCounts, apply_batch
from pisa.sync.capture import Capture
from pisa.sync.capture.pgoutput import lsn_text
from pisa.sync.lease import Lease
from pisa.sync.reconcile import ReconcileResult, reconcile_source, remove_deleted
from pisa.sync.state import load_state, record_reconcile, save_position

log = logging.getLogger(__name__)

ANALYZE_AFTER_GROWTH = 0.2    # refresh planner statistics when a poll grows a source by this share
ANALYZE_MIN_ROWS = 5000


@dataclass
class PollResult(ChangeCounts):
    """What one poll of one source did (its counts include a reconcile's repairs)."""

    source: str
    status: str                      # 'ok', 'skipped' (lease held elsewhere) or 'failed'
    capture: str = ""
    watermark: int | None = None
    synced_through: datetime | None = None
    lag_s: float | None = None
    duration_s: float = 0.0
    reconcile: ReconcileResult | None = None
    deletes: ReconcileResult | None = None       # the count check's repairs, when it found any
    error: str | None = None

    def position_text(self) -> str:
        """Where the poll left the source: an xmin watermark, or a WAL position (an LSN)."""
        if self.capture == "wal" and self.watermark is not None:
            return f"wal position {lsn_text(self.watermark)}"
        return f"{self.capture} watermark {self.watermark}"

    def describe(self) -> str:
        """One line a person can act on."""
        if self.status == "skipped":
            return f"{self.source}: skipped, another runner holds its sync lease"
        if self.status == "failed":
            return f"{self.source}: FAILED: {self.error}"
        text = (f"{self.source}: read {self.read} rows, applied {self.changed} changed "
                f"({self.inserted} new), deleted {self.deleted}; synced through "
                f"{self.synced_through:%H:%M:%S.%f}"[:-3] + f" UTC ({self.position_text()}), "
                f"lag {self.lag_s * 1000:.0f} ms, took {self.duration_s * 1000:.0f} ms")
        if self.reconcile is not None:
            text += f"; reconcile: {self.reconcile.describe()}"
        return text


def poll_source(lease: Lease, capture: Capture, *, batch_rows: int, reconcile_after: bool = False,
                check_deletes: bool = True, poll_interval_s: float | None = None) -> PollResult:
    """One poll under the lease. Raises on failure (nothing is half-applied: each batch is one
    transaction, and the position moves only after all of them)."""
    started = time.monotonic()
    session = lease.session
    state = load_state(session)
    result = PollResult(session.source, "ok", capture=capture.name)
    try:
        seen_at = capture.begin(state)
        for batch in capture.batches():
            result.add(apply_batch(lease, batch, seen_at=seen_at))
        if reconcile_after or (check_deletes and not capture.sees_deletes):
            for batch in capture.open_check():
                result.add(apply_batch(lease, batch, seen_at=seen_at))
        if reconcile_after:
            result.reconcile = reconcile_source(lease, capture, approx_rows=state.rows + result.inserted,
                                                batch_rows=batch_rows, seen_at=seen_at)
            result.add(result.reconcile)
        elif check_deletes and not capture.sees_deletes:
            result.deletes = remove_deleted(lease, capture, batch_rows=batch_rows, seen_at=seen_at)
            if result.deletes:
                result.add(result.deletes)
        position = capture.position()
        save_position(session, position, capture=capture.name, capture_note=capture.note,
                      capture_health=capture.health(), rows=result.changed + result.deleted,
                      poll_ms=(time.monotonic() - started) * 1000, poll_interval_s=poll_interval_s)
        capture.confirm(position)
        if capture.read_every_row() and not reconcile_after:
            record_reconcile(session, "every row read in one snapshot (a first sync or a resync): no full check "
                                      "needed until the next is due")
    finally:
        capture.end()
    if result.inserted >= max(ANALYZE_MIN_ROWS, ANALYZE_AFTER_GROWTH * state.rows):
        session.run("central/analyze_facts.sql")   # stale statistics would make batches scan
    result.watermark = position.watermark
    result.synced_through = position.synced_through
    result.lag_s = (datetime.now(timezone.utc) - position.synced_through).total_seconds()
    result.duration_s = time.monotonic() - started
    log.debug("%s: poll: %d rows read, %d changed, %d deleted; %s watermark %s -> %s; took %.1f ms",
              result.source, result.read, result.changed, result.deleted, capture.name,
              state.watermark, position.watermark, result.duration_s * 1000)
    return result
