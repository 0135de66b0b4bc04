"""The central session of one source's sync: one connection, and nothing else.

Everything a runner does in the central database (hold the lease, apply batches, save the
position, record errors) goes over this one connection: the lease is an advisory lock of the
same session, so a runner that lost its connection lost its lease too and cannot write behind a
successor's back. The modules that own those jobs (`lease`, `apply`, `state`, `reconcile`) take
a `SyncSession`; this module only opens, runs and closes.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pisa import db
from pisa.sync.lease import session_guards


# A server crash may lose the last fraction of a second of commits, each with its watermark, so
# the next poll reads those rows again: nothing lost, nothing counted twice, and no fsync wait.
DURABILITY = "-c synchronous_commit=off"


class SyncSession:
    """The central connection of one source's runner, with the server-side guards set."""

    def __init__(self, central_url: str, source: str, *, application_name: str, lease_timeout_s: float):
        self.source = source
        self.conn = db.connect_central(central_url, application_name=f"{application_name}:{source}",
                                       options=session_guards(lease_timeout_s) + " " + DURABILITY)
        self.run("central/stage_tables.sql")
        self.run("central/ensure_source.sql")

    @property
    def closed(self) -> bool:
        """True once the connection is closed (by us or by a failure)."""
        return bool(self.conn.closed)

    def run(self, name: str, **params) -> list[tuple]:
        """Run `sql/<name>` for this source in a transaction of its own; its rows, if any.

        For bookkeeping (lease, state reads, records); what changes figures goes through
        `transaction()`."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(db.load_sql(name), {"source": self.source, **params})
                rows = cur.fetchall() if cur.description else []
            self.conn.commit()
            return rows
        except BaseException:
            self.rollback()
            raise

    @contextmanager
    def transaction(self) -> Iterator:
        """A cursor in one transaction that changes figures: committed (through `commit`) when
        the block ends, rolled back if it raises."""
        try:
            with self.conn.cursor() as cur:
                yield cur
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        """Commit the open transaction (a seam: the crash tests fail it on purpose)."""
        self.conn.commit()

    def rollback(self) -> None:
        """Abandon the open transaction, if any."""
        if not self.conn.closed:
            self.conn.rollback()

    def close(self) -> None:
        """Close the connection (the server frees the session's locks with it)."""
        self.conn.close()
