"""Apply: one central transaction per batch (facts, aggregates, quarantine, watermark).

`CentralSession` is the central connection of one source's runner. It holds that source's lease
(an advisory lock of the same session), so a runner that lost its connection lost its lease too
and cannot write behind its successor's back.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg2.errors
from psycopg2.extras import execute_values

from pisa import db
from pisa.sync.validate import Fact, Issue

log = logging.getLogger(__name__)

LEASE_NAMESPACE = 0x50495341  # 'PISA': first key of the two-key advisory locks of sync leases


@dataclass(frozen=True)
class SyncState:
    """Where a source's sync stands, as committed in the central DB."""

    watermark: int | None
    synced_through: datetime | None
    rows: int


@dataclass(frozen=True)
class StateUpdate:
    """What a batch records in sync_state; the watermark moves only with a poll's last batch."""

    final: bool
    watermark: int | None = None
    synced_through: datetime | None = None
    poll_ms: float | None = None
    poll_interval_s: float | None = None


@dataclass(frozen=True)
class BatchResult:
    """What one applied batch changed in the central DB."""

    changed: int
    inserted: int
    deleted: int


def _copy_field(value) -> str:
    # Plain notation: a smallint column reads '10', never '1E+1'.
    if value is None:
        return r"\N"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


class CentralSession:
    """The central connection of one source's runner."""

    def __init__(self, central_url: str, source: str, application_name: str = "pisa-sync",
                 lease_timeout_s: float = 60):
        self.source = source
        self.conn = db.connect_central(central_url, application_name=f"{application_name}:{source}",
                                       idle_timeout_s=lease_timeout_s)
        self.holds_lease = False
        with self.conn.cursor() as cur:
            cur.execute(db.load_sql("central/stage_tables.sql"))
            cur.execute(db.load_sql("central/ensure_source.sql"), {"source": source})
        self.conn.commit()

    def _params(self, **extra) -> dict:
        return {"source": self.source, "namespace": LEASE_NAMESPACE, **extra}

    def _run(self, name: str, **params) -> list[tuple]:
        """Run `sql/<name>` for this source in a transaction of its own; its rows, if any."""
        with self.conn.cursor() as cur:
            cur.execute(db.load_sql(name), self._params(**params))
            rows = cur.fetchall() if cur.description else []
        self.conn.commit()
        return rows

    def try_acquire_lease(self) -> bool:
        """Take this source's lease if no other runner holds it; True when held."""
        if not self.holds_lease:
            self.holds_lease = self._run("central/try_lease.sql")[0][0]
        return self.holds_lease

    def wait_for_lease(self, timeout_s: float) -> bool:
        """Queue for the lease behind its holder, at most `timeout_s` (bounded on the server by
        lock_timeout, so a client stuck here cannot wait forever). True when held."""
        if not self.holds_lease:
            try:
                with self.conn.cursor() as cur:
                    wait_ms = max(1, int(timeout_s * 1000))
                    cur.execute(db.load_sql("central/wait_for_lease.sql"), self._params(
                        timeout=f"{wait_ms}ms", statement_timeout=f"{wait_ms + 1000}ms"))
                self.conn.commit()
                self.holds_lease = True
            except psycopg2.errors.LockNotAvailable:
                self.conn.rollback()
        return self.holds_lease

    def lease_waiters(self) -> list[str]:
        """Application names of the sessions queued for this source's lease."""
        return [name for (name,) in self._run("central/lease_waiters.sql")]

    def release_lease(self) -> None:
        """Give the lease back (closing the session does too)."""
        if self.holds_lease:
            self._run("central/release_lease.sql")
            self.holds_lease = False

    def load_state(self) -> SyncState:
        """The committed watermark, synced-through time and row count of this source."""
        return SyncState(*self._run("central/load_sync_state.sql")[0])

    def bucket_checksums(self, buckets: int) -> dict[int, tuple[int, int]]:
        """Row count and checksum per id bucket of this source's facts."""
        return {bucket: (rows, checksum)
                for bucket, rows, checksum in self._run("central/bucket_checksums.sql", buckets=buckets)}

    def ids_in_buckets(self, buckets: int, bucket_list: list[int]) -> set[int]:
        """Ids of this source's facts that fall in the given buckets."""
        return {row_id for (row_id,) in
                self._run("central/ids_in_buckets.sql", buckets=buckets, bucket_list=bucket_list)}

    def apply_batch(self, facts: list[Fact], issues: list[Issue], *, seen_at: datetime,
                    state: StateUpdate, deleted_ids: list[int] = ()) -> BatchResult:
        """Apply one batch in ONE transaction: upsert facts, adjust aggregates and arrivals,
        replace the rows' quarantine entries, delete `deleted_ids`, record the state."""
        if not self.holds_lease:
            raise RuntimeError(f"{self.source}: apply_batch without holding the lease")
        changed = inserted = deleted = 0
        try:
            with self.conn.cursor() as cur:
                if facts:
                    changed, inserted = self._apply_facts(cur, facts, issues, seen_at)
                if deleted_ids:
                    cur.execute(db.load_sql("central/delete_rows.sql"), self._params(ids=list(deleted_ids)))
                    deleted = cur.fetchone()[0]
                cur.execute(db.load_sql("central/save_sync_state.sql"), self._params(
                    final=state.final, watermark=state.watermark, synced_through=state.synced_through,
                    rows=changed + deleted, poll_ms=state.poll_ms, poll_interval_s=state.poll_interval_s))
            self._commit()
        except BaseException:
            self.conn.rollback()
            raise
        return BatchResult(changed, inserted, deleted)

    def _apply_facts(self, cur, facts: list[Fact], issues: list[Issue], seen_at: datetime) -> tuple[int, int]:
        buffer = io.StringIO()
        for f in facts:
            buffer.write("\t".join(map(_copy_field, (f.id, f.version, f.escs, f.tmins, f.belong, f.durecec))))
            buffer.write("\n")
        buffer.seek(0)
        cur.copy_expert(db.load_sql("central/copy_stage_rows.sql"), buffer)
        if issues:
            execute_values(cur, db.load_sql("central/insert_stage_issues.sql"),
                           [(i.id, i.column, i.raw_value, i.reason) for i in issues])
        params = self._params(seen_at=seen_at)
        cur.execute(db.load_sql("central/drop_unchanged_rows.sql"), params)
        if cur.rowcount == len(facts):
            return 0, 0
        cur.execute(db.load_sql("central/replace_quarantine.sql"), params)
        cur.execute(db.load_sql("central/apply_changed_rows.sql"), params)
        changed, inserted = cur.fetchone()
        return changed, inserted

    def analyze_facts(self) -> None:
        """Refresh the planner's statistics of the fact table (after a bulk catch-up, the stale
        ones would make every later batch scan the whole source instead of using the key)."""
        self._run("central/analyze_facts.sql")

    def _commit(self) -> None:
        # A seam of its own: the crash-safety tests inject a failure right before the commit.
        self.conn.commit()

    def record_error(self, message: str) -> None:
        """Record a failed poll in sync_state (best effort: the central DB may be the problem)."""
        try:
            self.conn.rollback()
            with self.conn.cursor() as cur:
                cur.execute(db.load_sql("central/record_sync_error.sql"), self._params(error=message[:2000]))
            self.conn.commit()
        except Exception as exc:  # the original error matters more than this one
            log.warning("%s: could not record the error in sync_state: %s", self.source, db.first_line(exc))

    def record_reconcile(self, note: str) -> None:
        """Record the outcome of a reconcile pass."""
        self._run("central/record_reconcile.sql", note=note)

    def close(self) -> None:
        """Give the lease back, then close the connection. The explicit unlock matters: a closed
        session's locks are freed by the server a moment later, and a runner starting right
        after this one would find the lease still held."""
        try:
            if self.holds_lease and not self.conn.closed:
                self.conn.rollback()
                self.release_lease()
        except Exception:  # a broken session: closing it frees the lease anyway
            pass
        finally:
            self.conn.close()
            self.holds_lease = False
