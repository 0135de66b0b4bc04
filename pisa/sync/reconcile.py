"""Reconcile: find deleted or drifted rows by comparing id buckets, and repair them.

xmin cannot see deletes, nor rows back at an old version. Two checks, both in the source
snapshot of the poll they follow, right after its batches were applied (so a difference means
real drift, not ordinary lag):

  remove_deleted    after a poll (paced polls: once a second): the row counts of both sides;
                    when the source has fewer, the rows per bucket find where (a few ms at
                    10,000 rows: deletes leave the figures within a second or two).
  reconcile_source  the full check, paced (`pacing.ReconcilePacer`): both sides hash each row's
                    id, version and content and sum the hashes per bucket.

Equal buckets cost one aggregate scan on each side and nothing more; only the rows of differing
buckets are read again and applied, and rows the source no longer has are deleted.
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
    """The full check: compare the source (in the read `capture` has open) with the central copy
    by bucket checksums of every row's id, version and content, repair the buckets that differ,
    record the outcome; returns what it repaired (or why it skipped)."""
    result = _compare_and_repair(lease, capture, "bucket_checksums.sql", approx_rows=approx_rows,
                                 batch_rows=batch_rows, seen_at=seen_at)
    if result.differing or result.skipped:
        log.log(logging.WARNING if result.skipped else logging.INFO, "%s: reconcile: %s",
                lease.session.source, result.describe())
    record_reconcile(lease.session, result.describe())
    return result


def remove_deleted(lease: Lease, capture: Capture, *, batch_rows: int, seen_at: datetime) -> ReconcileResult | None:
    """The cheap check for deletes, after a poll in its snapshot: when the source holds fewer
    rows than the central copy, compare rows per bucket (no hashing) and repair the buckets
    that lost rows. None when the counts show nothing deleted (the full check finds drift)."""
    session = lease.session
    source_rows = fetch_all(capture.conn, "source/row_count.sql", {})[0][0]
    central_rows = session.run("central/row_count.sql", source=session.source)[0][0]
    if source_rows >= central_rows:
        return None
    result = _compare_and_repair(lease, capture, "bucket_counts.sql", approx_rows=central_rows,
                                 batch_rows=batch_rows, seen_at=seen_at)
    log.log(logging.WARNING if result.skipped else logging.DEBUG, "%s: %d rows fewer at the source: %s",
            session.source, central_rows - source_rows, result.describe())
    return result


def _compare_and_repair(lease: Lease, capture: Capture, comparison: str, *, approx_rows: int,
                        batch_rows: int, seen_at: datetime) -> ReconcileResult:
    # `comparison` names the same query on both sides: sql/source/<it> and sql/central/<it>,
    # (bucket, rows, checksum) per id bucket.
    session, source_conn = lease.session, capture.conn
    result = ReconcileResult(bucket_count(approx_rows))
    params = {"buckets": result.buckets, "source": session.source}
    started = time.monotonic()
    source_side = _checksums(fetch_all(source_conn, f"source/{comparison}", params))
    if not capture.snapshot_intact():
        # ALTER TABLE ... rewrite or TRUNCATE committed while this read waited for its lock: the
        # snapshot sees the table empty, and trusting it would delete the whole country (and
        # re-add it as new rows, in the current hour). The next poll reads the rewritten rows.
        result.skipped = ("the source table was rewritten (ALTER TABLE or TRUNCATE) after this poll's "
                          "snapshot; the next check compares again")
        return result
    central_side = _checksums(session.run(f"central/{comparison}", **params))
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
        # What is left is gone from the source. Deleted a batch per transaction: a source that
        # lost a million rows would otherwise be one DELETE past statement_timeout, retried forever.
        gone = sorted(central_ids)
        for start in range(0, len(gone), batch_rows):
            result.add(apply_batch(lease, ChangeBatch([], gone[start:start + batch_rows]), seen_at=seen_at))
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
