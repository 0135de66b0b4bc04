"""Duplicate ids: which of the source rows sharing an id counts.

A source may have no primary key, so several rows can share an id. The rule (README, "Duplicate
ids"): the newest row version counts, the one written by the latest transaction; rows written by
the same transaction are ordered by their content hash, larger first, so the choice never
depends on where a row sits in the table. The rows not counted leave the figures and show in
the quarantine as one 'duplicate id' entry per id.
"""
from __future__ import annotations

XID_SPACE = 1 << 32      # versions are 32-bit transaction ids, compared as PostgreSQL does


def newest_per_id(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Split extracted rows (id, version, ..., content_hash) into the row that counts for each
    id and the rows that do not (older versions under the same id), keeping the rows' order."""
    counted: dict[int, int] = {}            # id -> index of the row that counts
    for index, row in enumerate(rows):
        held = counted.get(row[0])
        if held is None or _newer(row, rows[held]):
            counted[row[0]] = index
    if len(counted) == len(rows):           # the usual case: every id once
        return rows, []
    keep = set(counted.values())
    return ([row for index, row in enumerate(rows) if index in keep],
            [row for index, row in enumerate(rows) if index not in keep])


def _newer(row: tuple, other: tuple) -> bool:
    if row[1] != other[1]:
        # Modulo 2**32, as TransactionIdPrecedes does: right across xid wraparound.
        return (row[1] - other[1]) % XID_SPACE < XID_SPACE // 2
    return row[-1] > other[-1]
