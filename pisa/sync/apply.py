"""Apply: one change batch in ONE central transaction (facts, aggregates, quarantine, deletes).

Of the rows sharing an id only the newest counts (`duplicates.py`); the others are recorded as
the id's 'duplicate id' quarantine entry. The counted rows are parsed and validated, COPied into
the session's temp tables and applied set-based: rows at the version we already hold are
dropped first (re-applying is free and changes nothing), then facts are upserted while
`country_stats` moves by new minus old in the same statement, the rows' quarantine entries are
replaced, new rows are counted in `arrivals_hourly`, and deleted ids leave facts and aggregates.
A transaction that changed figures also notifies the API processes (delivered at its commit).
The position moves afterwards, in `state.save_position`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from psycopg2.extras import execute_values

from pisa import db
from pisa.errors import LeaseLost
from pisa.sync.capture import ChangeBatch
from pisa.sync.duplicates import newest_per_id
from pisa.sync.lease import Lease
from pisa.sync.validate import Fact, Issue, parse_rows


@dataclass(kw_only=True)
class ChangeCounts:
    """Rows read from a source and what they changed in the central DB: one batch's, or summed
    over a reconcile's or a poll's batches (`add`)."""

    read: int = 0
    changed: int = 0
    inserted: int = 0
    deleted: int = 0

    def add(self, other: ChangeCounts) -> None:
        """Count `other`'s rows in too."""
        self.read += other.read
        self.changed += other.changed
        self.inserted += other.inserted
        self.deleted += other.deleted


def apply_batch(lease: Lease, batch: ChangeBatch, *, seen_at: datetime) -> ChangeCounts:
    """Apply `batch` to the lease holder's source in one transaction; new rows count as first
    seen at `seen_at`."""
    session = lease.session
    if not lease.held:
        raise LeaseLost(f"{session.source}: a batch may only be applied while holding the sync lease")
    counted, not_counted = newest_per_id(batch.rows)
    facts, issues = parse_rows(session.source, counted)
    changed = inserted = deleted = 0
    params = {"source": session.source, "seen_at": seen_at}
    with session.transaction() as cur:
        if not_counted or batch.whole_ids:
            _replace_duplicate_entries(cur, batch, not_counted, params)
        if facts:
            changed, inserted = _upsert_facts(cur, facts, issues, params)
        deleted_ids = list(batch.deleted_ids)
        if batch.keep_only_ids is not None:     # a TRUNCATE: what was not written back is gone
            cur.execute(db.load_sql("central/present_ids.sql"), params)
            deleted_ids += [row_id for (row_id,) in cur.fetchall() if row_id not in batch.keep_only_ids]
        if deleted_ids:
            cur.execute(db.load_sql("central/delete_rows.sql"), {**params, "ids": deleted_ids})
            deleted = cur.fetchone()[0]
        if changed or deleted:          # the API pushes to the page when this commits
            cur.execute(db.load_sql("central/notify_figures_changed.sql"), params)
    return ChangeCounts(read=len(batch.rows), changed=changed, inserted=inserted, deleted=deleted)


def _upsert_facts(cur, facts: list[Fact], issues: list[Issue], params: dict) -> tuple[int, int]:
    cur.copy_expert(db.load_sql("central/copy_stage_rows.sql"), _copy_text(
        (f.id, f.version, f.escs, f.tmins, f.belong, f.durecec, f.content_hash) for f in facts))
    if issues:
        execute_values(cur, db.load_sql("central/insert_stage_issues.sql"),
                       [(i.id, i.column, i.raw_value, i.reason) for i in issues])
    cur.execute(db.load_sql("central/drop_unchanged_rows.sql"), params)
    if cur.rowcount == len(facts):         # all held at this version already: nothing to do
        return 0, 0
    cur.execute(db.load_sql("central/replace_quarantine.sql"), params)
    cur.execute(db.load_sql("central/apply_changed_rows.sql"), params)
    changed, inserted = cur.fetchone()
    return changed, inserted


def _replace_duplicate_entries(cur, batch: ChangeBatch, not_counted: list[tuple], params: dict) -> None:
    # A batch of changed rows sees only some of an id's rows: it records the duplicates it saw.
    # A repair read holds them all, so its ids without duplicates lose their entry too.
    ids = {row[0] for row in (batch.rows if batch.whole_ids else not_counted)}
    if not_counted:
        cur.copy_expert(db.load_sql("central/copy_stage_duplicates.sql"),
                        _copy_text((row[0], row[1], row[-1]) for row in not_counted))
    cur.execute(db.load_sql("central/replace_duplicate_entries.sql"), {**params, "ids": sorted(ids)})


def _copy_text(records) -> io.StringIO:
    buffer = io.StringIO()
    for record in records:
        buffer.write("\t".join(map(_copy_field, record)))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def _copy_field(value) -> str:
    # Plain notation: a smallint column reads '10', never '1E+1'.
    if value is None:
        return r"\N"
    return format(value, "f") if isinstance(value, Decimal) else str(value)
