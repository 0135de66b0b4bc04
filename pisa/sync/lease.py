"""The sync lease: at most one runner writes a source, and runs hand it over without a gap.

The lease is a session advisory lock on the central database, held by the same `SyncSession`
that writes the source's batches. Guards live on the server (`session_guards`, from
`PISA_LEASE_TIMEOUT_SECONDS`), because a client stuck inside a libpq call cannot free anything:
an idle session is closed after the timeout (a stopped runner), a statement is cancelled after
twice it (a stuck one), a lock wait after once it, and `client_connection_check_interval` ends
the backend of a client that died mid-query. Closing the session frees the lease too.

Hand-over: a successor notifies the holder (`request_lease.sql`) and queues on the lock (`wait`).
The holder listens: the notification ends its wait for changes at once (`woken`, a file
descriptor its capture or its pause selects on), and it finds the successor in `pg_locks`
(`waiters`) and lets go. A reconcile run queues the same way; the holder `lend`s it the lease
for one pass and queues straight back behind it. Between requests the holder looks in `pg_locks`
only every REQUEST_FALLBACK_S, for a waiter whose notification it could not hear.
"""
from __future__ import annotations

import select
import time
from typing import TYPE_CHECKING

import psycopg2.errors

if TYPE_CHECKING:
    from pisa.sync.session import SyncSession

LEASE_NAMESPACE = 0x50495341  # 'PISA': first key of the two-key advisory locks of sync leases
STREAM_APP = "pisa-stream"        # application names: who is queued tells why
RECONCILE_APP = "pisa-reconcile"

# Set on every central session of a runner. The idle-session timeout frees a stopped runner's
# lease; keepalives and the connection check find a vanished client even mid-statement. A
# statement may run twice the timeout (a batch takes well under a second), a lock wait as long.
GUARDS = ("-c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={idle_ms} "
          "-c idle_session_timeout={idle_ms} -c lock_timeout={idle_ms} "
          "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 "
          "-c client_connection_check_interval=2s")


def session_guards(lease_timeout_s: float) -> str:
    """The session options that make the server free a stuck or vanished holder's lease."""
    return GUARDS.format(idle_ms=int(lease_timeout_s * 1000), statement_ms=int(2 * lease_timeout_s * 1000))


# A request heard is looked for in pg_locks on every poll for this long: the notification
# commits just before its sender's lock request is queued, so the first look may come too soon.
REQUEST_RECHECK_S = 1.0
# Without a request heard, pg_locks is read this often: the holder's only cost while idle, and
# the bound on a hand-over whose notification was lost (a holder that reconnected, say).
REQUEST_FALLBACK_S = 2.0


class Lease:
    """One source's lease, taken and released over its runner's central session."""

    def __init__(self, session: "SyncSession"):
        self.session = session
        self.held = False
        self.listening = False
        self.requested_at = float("-inf")     # monotonic: when a request was last heard
        self.checked_at = float("-inf")       # ... and when pg_locks was last read

    def _run(self, name: str, **params) -> list[tuple]:
        return self.session.run(name, namespace=LEASE_NAMESPACE, **params)

    def try_take(self) -> bool:
        """Take the lease if no other runner holds it; True when held."""
        if not self.held:
            self.held = self._run("central/try_lease.sql")[0][0]
            self._listen()
        return self.held

    def wait(self, timeout_s: float) -> bool:
        """Queue behind the holder for at most `timeout_s` (bounded on the server by
        lock_timeout, so a client stuck here cannot wait forever). True when held."""
        if not self.held:
            wait_ms = max(1, int(timeout_s * 1000))
            self._run("central/request_lease.sql")
            try:
                self._run("central/wait_for_lease.sql", timeout=f"{wait_ms}ms",
                          statement_timeout=f"{wait_ms + 1000}ms")
                self.held = True
            except psycopg2.errors.LockNotAvailable:
                pass
            self._listen()
        return self.held

    def _listen(self) -> None:
        if self.held and not self.listening:
            self._run("central/listen_lease_requests.sql")
            self.listening = True

    def fileno(self) -> int:
        """The session's socket: readable when a notification (maybe a request) arrived."""
        return self.session.conn.fileno()

    def woken(self) -> bool:
        """Whether a run asked for this lease since the last call (reads what arrived)."""
        conn = self.session.conn
        conn.poll()
        heard = any(notify.payload == self.session.source for notify in conn.notifies)
        conn.notifies.clear()
        if heard:
            self.requested_at = time.monotonic()
        return heard

    def sleep(self, seconds: float) -> None:
        """Pause for `seconds`, or less if a run asks for the lease meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.woken() and (left := deadline - time.monotonic()) > 0:
            select.select([self], [], [], left)

    def waiters(self, *, when_requested: bool = False) -> list[str]:
        """Application names of the sessions queued for this lease. `when_requested`: look only
        if a request was heard lately or REQUEST_FALLBACK_S passed since the last look."""
        now = time.monotonic()
        self.woken()
        if when_requested and now - self.requested_at > REQUEST_RECHECK_S \
                and now - self.checked_at < REQUEST_FALLBACK_S:
            return []
        self.checked_at = now
        names = [name for (name,) in self._run("central/lease_waiters.sql")]
        if names:
            self.requested_at = float("-inf")
        return names

    def release(self) -> None:
        """Give the lease back. Explicitly, before closing: a closed session's locks are freed
        by the server a moment later, and a successor starting right then would find it held.
        (The session keeps listening: requests heard while not holding are looked up for nothing.)"""
        if self.held:
            self._run("central/release_lease.sql")
            self.held = False

    def lend(self, timeout_s: float) -> bool:
        """Let a queued reconcile pass take the lease, and queue straight back behind it."""
        self.release()
        return self.wait(timeout_s)


def is_successor(application_name: str) -> bool:
    """A queued session that takes over for good (a next run), not one that borrows (reconcile)."""
    return not application_name.startswith(RECONCILE_APP)
