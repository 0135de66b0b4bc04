"""A source's runner (its connections, lease, capture and pace), and the ways to run them:
one poll of each source (`pisa sync --once`, `pisa reconcile`) or following them all.

Used by the CLI, the Airflow slots and the tests; the poll itself is `poll.poll_source`.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from pisa import db
from pisa.config import Settings
from pisa.errors import PisaError
from pisa.sync.capture import Capture, capture_for
from pisa.sync.lease import Lease
from pisa.sync.pacing import DELETE_CHECK_EVERY_S, PollPacer, ReconcilePacer, RetryBackoff
from pisa.sync.poll import PollResult, poll_source
from pisa.sync.session import SyncSession
from pisa.sync.state import record_error

log = logging.getLogger(__name__)

LEASE_RETRY_S = 1.0


class SourceRunner:
    """Syncs one source: owns its source connection, its central session and lease, its capture
    strategy and its poll pace."""

    def __init__(self, settings: Settings, source: str, application_name: str = "pisa-sync"):
        self.settings = settings
        self.source = source
        self.application_name = application_name
        self.pacer = PollPacer(settings, source)
        self.lease: Lease | None = None
        self.capture: Capture | None = None
        self.deletes_checked_at = 0.0       # monotonic

    def connect(self) -> None:
        """Open both connections (if not open). Before taking the lease: a successor handed the
        lease polls at once, with no connect in the hand-over gap."""
        if self.lease is None:
            self.lease = Lease(SyncSession(self.settings.central_url, self.source,
                                           application_name=self.application_name,
                                           lease_timeout_s=self.settings.lease_timeout_seconds))
        if self.capture is None:
            conn = db.connect_source(self.settings.source_url(self.source), application_name=self.application_name)
            try:
                self.capture = capture_for(self.settings, self.source, conn, self.application_name)
            except BaseException:
                conn.close()
                raise
            self.capture.waker = self.lease       # a run asking for the lease ends a wait for changes

    def try_acquire(self) -> bool:
        """Connect, then take the source's lease; False when another runner holds it."""
        self.connect()
        return self.lease.try_take()

    def wait_acquire(self, timeout_s: float) -> bool:
        """Connect, then queue behind the lease's holder for at most `timeout_s`."""
        self.connect()
        return self.lease.wait(timeout_s)

    def poll(self, reconcile_after: bool = False, check_deletes: bool = True) -> PollResult:
        """One poll under the lease (acquire it first). Raises on failure."""
        if check_deletes:
            self.deletes_checked_at = time.monotonic()
        return poll_source(self.lease, self.capture, batch_rows=self.settings.batch_rows,
                           reconcile_after=reconcile_after, check_deletes=check_deletes,
                           poll_interval_s=self.pacer.interval_s)

    def poll_paced(self, reconciles: ReconcilePacer) -> PollResult:
        """One poll, with a reconcile when one is due, else a delete check when one is due
        (`DELETE_CHECK_EVERY_S`); logged, and its cost accounted for."""
        reconcile_due = reconciles.due(streaming=self.capture.waits_for_changes)
        check_due = time.monotonic() - self.deletes_checked_at >= DELETE_CHECK_EVERY_S
        result = self.poll(reconcile_after=reconcile_due, check_deletes=check_due)
        log_poll(result)
        if reconcile_due:       # paced by what the comparison costs, not by one busy repair
            reconciles.record(result.reconcile.check_s)
        elif not self.capture.waits_for_changes:
            self.pacer.record(result.duration_s)
        return result

    def pause_after(self, result: PollResult) -> float:
        """Seconds to wait before the next poll: none for a capture that waits for changes."""
        return 0.0 if self.capture is not None and self.capture.waits_for_changes else \
            self.pacer.pause_after(result.duration_s)

    def record_error(self, message: str) -> None:
        """Record a failure in sync_state, only while holding the lease: a bystander's view of a
        source (say an unreachable network path) must not mark a working holder's sync as failed,
        but when no one holds the lease, the failure is the source's state."""
        lease = self.lease
        if lease is None or lease.session.closed:
            return
        try:
            borrowed = not lease.held and lease.try_take()
        except psycopg2.Error:        # the central DB itself may be what failed
            return
        if lease.held:
            record_error(lease.session, message)
            if borrowed:
                lease.release()

    def close(self) -> None:
        """Give the lease back and close both connections."""
        if self.capture is not None:  # first: a successor takes the lease, then the slot at once
            self.capture.close()
        if self.lease is not None:
            try:
                if not self.lease.session.closed:
                    self.lease.session.rollback()
                    self.lease.release()
            except psycopg2.Error:    # a broken session: closing it frees the lease anyway
                pass
            self.lease.session.close()
        self.lease = self.capture = None

    def follow(self, stop: threading.Event, reconcile_every_s: float | None = None) -> None:
        """Poll until `stop` is set: log busy polls, reconcile when due (`ReconcilePacer`: paced
        by the CPU budget unless `reconcile_every_s` fixes it), retry failures every 2 s at most
        (`RetryBackoff`)."""
        retries = RetryBackoff(self.source)
        waiting_logged = False
        reconciles = ReconcilePacer(self.settings, reconcile_every_s)
        try:
            while not stop.is_set():
                try:
                    if not self.try_acquire():
                        if not waiting_logged:
                            log.info("%s: another runner holds the sync lease; waiting for it", self.source)
                            waiting_logged = True
                        stop.wait(LEASE_RETRY_S)
                        continue
                    waiting_logged = False
                    result = self.poll_paced(reconciles)
                    retries.succeeded()
                    stop.wait(self.pause_after(result))
                except Exception as exc:  # a follower must outlive any one failed poll
                    message = db.first_line(exc)
                    wait_s = retries.failed(message, exc_info=not isinstance(exc, (PisaError, psycopg2.Error)))
                    self.record_error(message)
                    self.close()
                    stop.wait(wait_s)
        finally:
            self.close()


# A poll worth a line of its own at INFO: a catch-up, a late one, or a repair. The rest are
# counted in the run's summary (one line every 30 s under Airflow) and logged at DEBUG (`-v`):
# a line for every poll that changed figures would be about 1.7 million lines a day at the
# simulator's default rate.
NOTABLE_POLL_ROWS = 100
NOTABLE_LAG_S = 1.0


def log_poll(result: PollResult) -> None:
    """Log one poll: INFO when notable (above), DEBUG when it changed figures otherwise."""
    repaired = result.reconcile is not None and result.reconcile.differing
    if repaired or result.changed + result.deleted >= NOTABLE_POLL_ROWS or (result.lag_s or 0) >= NOTABLE_LAG_S:
        log.info("%s", result.describe())
    elif result.changed or result.deleted:
        log.debug("%s", result.describe())


def poll_source_once(settings: Settings, source: str, reconcile_after: bool = False) -> PollResult:
    """Connect, take the lease, poll once, disconnect. Failures come back as a result."""
    runner = SourceRunner(settings, source, application_name="pisa-sync-once")
    try:
        if not runner.try_acquire():
            return PollResult(source, "skipped")
        return runner.poll(reconcile_after=reconcile_after)
    except Exception as exc:  # one source's failure must not hide the other sources' results
        message = db.first_line(exc)
        if not isinstance(exc, (PisaError, psycopg2.Error)):
            log.exception("%s: unexpected failure", source)
        runner.record_error(message)
        return PollResult(source, "failed", error=message)
    finally:
        runner.close()


def sync_all_once(settings: Settings, reconcile_after: bool = False) -> list[PollResult]:
    """One poll of every configured source, a few in parallel; results in source order."""
    with ThreadPoolExecutor(max_workers=settings.sync_workers, thread_name_prefix="pisa-sync") as pool:
        return list(pool.map(lambda s: poll_source_once(settings, s, reconcile_after), settings.sources))


def follow_all(settings: Settings, stop: threading.Event, reconcile_every_s: float | None = None) -> None:
    """Follow every configured source in its own thread until `stop` is set."""
    threads = [threading.Thread(target=SourceRunner(settings, source).follow, args=(stop, reconcile_every_s),
                                name=f"pisa-sync-{source}", daemon=True)
               for source in settings.sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
