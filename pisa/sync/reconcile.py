"""Reconcile: find deleted or drifted rows by bucketed checksums of (id, version).

xmin cannot see deletes. Both sides hash each row's id and version and sum the hashes per id
bucket; equal buckets cost one aggregate scan and nothing more, and only rows of buckets that
differ are read again and repaired. The runner does this in the same source snapshot as a normal
poll, right after applying it, so a differing bucket means real drift, not ordinary lag.
"""
from __future__ import annotations

ROWS_PER_BUCKET = 128     # a differing bucket costs reading about this many rows again
MAX_BUCKETS = 1 << 16


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
