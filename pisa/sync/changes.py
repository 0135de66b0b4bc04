"""Find changes: rows whose version (xmin) is at or after the last snapshot's xmin.

Why this is complete without timestamps: a poll takes its snapshot and reads its rows in the
same REPEATABLE READ transaction. A row version first visible at poll k was invisible at poll
k-1, so its xid was still running or not yet assigned then: it is >= poll k-1's snapshot xmin,
the watermark. Nothing committed is skipped; some rows come back twice (the apply step skips
rows whose version it already holds). Deletes are invisible to xmin: reconcile finds them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import psycopg2
import psycopg2.errors

from pisa import db
from pisa.errors import SchemaMismatch, SourceUnavailable

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


def begin_snapshot(source_conn) -> SourceSnapshot:
    """Start the poll's REPEATABLE READ transaction and return its snapshot."""
    with source_conn.cursor() as cur:
        cur.execute(db.load_sql("source/snapshot.sql"))
        return SourceSnapshot(*cur.fetchone())


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


def stream_changed_rows(source_conn, watermark: int | None, batch_rows: int) -> Iterator[list[tuple]]:
    """Yield batches of (id, version, cnt, escs, tmins, belong, durecec) changed since `watermark`.

    Runs inside the transaction `begin_snapshot` started, through a server-side cursor so a
    catch-up of millions of rows streams in batches. Always yields at least one (maybe empty) batch.
    """
    yield from _stream(source_conn, db.load_sql("source/changed_rows.sql"), {"watermark": watermark}, batch_rows)


def stream_rows_in_buckets(source_conn, buckets: int, bucket_list: list[int], batch_rows: int) -> Iterator[list[tuple]]:
    """Yield batches of every row in the given id buckets (reconcile's repair read)."""
    yield from _stream(source_conn, db.load_sql("source/rows_in_buckets.sql"),
                       {"buckets": buckets, "bucket_list": bucket_list}, batch_rows)


def _stream(source_conn, query: str, params: dict, batch_rows: int) -> Iterator[list[tuple]]:
    try:
        with source_conn.cursor(name="pisa_changes") as cur:
            cur.itersize = batch_rows
            cur.execute(query, params)
            batch = cur.fetchmany(batch_rows)
            yield batch
            while len(batch) == batch_rows:
                batch = cur.fetchmany(batch_rows)
                if batch:
                    yield batch
    except psycopg2.errors.UndefinedColumn as exc:
        raise SchemaMismatch(f"source table responses lacks a needed column: {db.first_line(exc)}") from exc
    except psycopg2.errors.UndefinedTable as exc:
        raise SchemaMismatch("source has no responses table") from exc
    except psycopg2.OperationalError as exc:
        raise SourceUnavailable(f"source read failed: {db.first_line(exc)}") from exc


def bucket_checksums(source_conn, buckets: int) -> dict[int, tuple[int, int]]:
    """Row count and checksum per id bucket, in the poll's snapshot."""
    with source_conn.cursor() as cur:
        cur.execute(db.load_sql("source/bucket_checksums.sql"), {"buckets": buckets})
        return {bucket: (rows, checksum) for bucket, rows, checksum in cur.fetchall()}
