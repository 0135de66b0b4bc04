"""Reconcile: find deleted or drifted rows by bucketed checksums of (id, version, content), and
repair them.

xmin cannot see deletes. Both sides hash each row's id and version and sum the hashes per id
bucket; equal buckets cost one aggregate scan on each side and nothing more, and only the rows
of differing buckets are read again and applied (rows the source no longer has are deleted).
It runs in the source snapshot of the poll it follows, right after that poll's batches were
applied, so a differing bucket means real drift, not ordinary lag.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from pisa.sync.apply import ChangeCounts, apply_batch
from pisa.sync.capture import Capture, ChangeBatch
from pisa.sync.lease import Lease
from pisa.sync.source_reads import fetch_all, stream_rows
from pisa.sync.state import record_reconcile

log = logging.getLogger(__name__)

ROWS_PER_BUCKET = 128     # a differing bucket costs reading about this many rows again
MAX_BUCKETS = 1 << 16


@dataclass
class ReconcileResult(ChangeCounts):
    """What one reconcile pass found and repaired (its counts: the repair batches')."""

    buckets: int
    differing: int = 0
    skipped: str | None = None      # why nothing was compared
    check_s: float = 0.0            # the comparison's cost (repairs cost what the changes do)

    def describe(self) -> str:
        """One line a person can act on."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if not self.differing:
            return f"all {self.buckets} buckets equal"
        return (f"{self.differing} of {self.buckets} buckets differed and were repaired: "
                f"{self.changed} rows rewritten, {self.deleted} deleted")


def reconcile_source(lease: Lease, capture: Capture, *, approx_rows: int, batch_rows: int,
                     seen_at: datetime) -> ReconcileResult:
    """Compare the source (in the read `capture` has open) with the central copy bucket by
    bucket, repair the buckets that differ, record the outcome; returns what it repaired (or why
    it skipped: the source table was rewritten after the snapshot; checked again next time)."""
    session, source_conn = lease.session, capture.conn
    result = ReconcileResult(bucket_count(approx_rows))
    params = {"buckets": result.buckets, "source": session.source}
    started = time.monotonic()
    source_side = _checksums(fetch_all(source_conn, "source/bucket_checksums.sql", params))
    if not capture.snapshot_intact():
        # ALTER TABLE ... rewrite or TRUNCATE committed while this read waited for its lock: the
        # snapshot sees the table empty, and trusting it would delete the whole country (and
        # re-add it as new rows, in the current hour). The next poll reads the rewritten rows.
        result.skipped = ("the source table was rewritten (ALTER TABLE or TRUNCATE) after this poll's "
                          "snapshot; the next check compares again")
        log.warning("%s: reconcile %s", session.source, result.describe())
        return result
    central_side = _checksums(session.run("central/bucket_checksums.sql", **params))
    result.check_s = time.monotonic() - started
    differing = differing_buckets(source_side, central_side)
    result.differing = len(differing)
    if differing:
        params["bucket_list"] = differing
        central_ids = {row_id for (row_id,) in session.run("central/ids_in_buckets.sql", **params)}
        for rows in whole_id_batches(stream_rows(source_conn, "source/rows_in_buckets.sql", params,
                                                 batch_rows)):
            central_ids.difference_update(row[0] for row in rows)
            result.add(apply_batch(lease, ChangeBatch(rows, whole_ids=True), seen_at=seen_at))
        if central_ids:                     # what is left is gone from the source
            result.add(apply_batch(lease, ChangeBatch([], sorted(central_ids)), seen_at=seen_at))
        log.info("%s: reconcile: %s", session.source, result.describe())
    record_reconcile(session, result.describe())
    return result


def whole_id_batches(batches: Iterator[list[tuple]]) -> Iterator[list[tuple]]:
    """Re-cut batches of rows in id order so that no id's rows straddle two batches (a source
    without a primary key may hold several rows per id; which counts needs them all at once)."""
    carried: list[tuple] = []
    for rows in batches:
        rows = carried + rows
        cut = len(rows)
        while cut and rows[cut - 1][0] == rows[-1][0]:
            cut -= 1
        carried = rows[cut:]
        if cut:
            yield rows[:cut]
    if carried:
        yield carried


def _checksums(rows: list[tuple]) -> dict[int, tuple[int, int]]:
    return {bucket: (count, checksum) for bucket, count, checksum in rows}


def bucket_count(rows: int) -> int:
    """Number of id buckets for a source of about `rows` rows: a power of two."""
    wanted = max(1, rows // ROWS_PER_BUCKET)
    count = 1
    while count < wanted and count < MAX_BUCKETS:
        count <<= 1
    return count


def differing_buckets(source_side: dict[int, tuple[int, int]],
                      central_side: dict[int, tuple[int, int]]) -> list[int]:
    """Buckets whose (rows, checksum) differ between the source and the central copy."""
    return sorted(b for b in source_side.keys() | central_side.keys()
                  if source_side.get(b) != central_side.get(b))
