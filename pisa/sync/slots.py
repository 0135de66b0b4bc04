"""One scheduled run's share of a source: what the Airflow tasks call (Level 3 inside Airflow).

A 30 s schedule alone only gives Level 2. So each run streams: it queues for the source's lease
(the previous run hands it over), then polls in sub-second steps. When the next run queues behind
it, it finishes its batch and lets go, so consecutive runs overlap by the successor's start-up
and hand over without a gap. A reconcile run queues the same way: the streaming run lends it the
lease for its one pass and queues straight back behind it (`lease.py`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import psycopg2

from pisa import db
from pisa.config import Settings
from pisa.errors import CentralUnavailable, LeaseHeld, SourceUnavailable
from pisa.sync.lease import RECONCILE_APP, STREAM_APP, is_successor
from pisa.sync.poll import PollResult
from pisa.sync.pacing import STREAMING_RECONCILE_EVERY_S, ReconcilePacer, RetryBackoff
from pisa.sync.runner import SourceRunner

log = logging.getLogger(__name__)

__all__ = ["STREAM_APP", "RECONCILE_APP", "SlotSummary", "stream_slot", "reconcile_slot"]

# What a database restart or failover looks like to a run: retried within the run. Anything else
# (a missing table, a bug) fails the task, for Airflow's retries and the operator.
CONNECTION_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError, CentralUnavailable, SourceUnavailable)


@dataclass
class SlotSummary:
    """What one streaming run did, for its log and its XCom."""

    source: str
    polls: int = 0
    rows_applied: int = 0
    rows_deleted: int = 0
    max_lag_ms: float = 0.0
    waited_for_lease_s: float = 0.0
    lent_to_reconcile: int = 0
    ended_because: str = ""
    held_s: float = 0.0
    slot_taken_ms: float | None = None      # wal: lease taken -> streaming from the slot
    caught_up_ms: float | None = None       # wal: lease taken -> the stream reached the WAL before it

    def record(self, result: PollResult) -> None:
        """Count one poll."""
        self.polls += 1
        self.rows_applied += result.changed
        self.rows_deleted += result.deleted
        self.max_lag_ms = max(self.max_lag_ms, (result.lag_s or 0) * 1000)

    def describe(self) -> str:
        """The run's summary line."""
        slot = "" if self.slot_taken_ms is None else f", streaming from the slot {self.slot_taken_ms:.0f} ms after it"
        if self.caught_up_ms is not None:
            slot += f", caught up with the source {self.caught_up_ms:.0f} ms after it"
        return (f"{self.source}: held the lease {self.held_s:.1f} s (waited {self.waited_for_lease_s:.2f} s for it"
                f"{slot}), {self.polls} polls, {self.rows_applied} rows applied, {self.rows_deleted} deleted, max lag "
                f"{self.max_lag_ms:.0f} ms, lent to reconcile {self.lent_to_reconcile}x; ended: {self.ended_because}")


def lease_wait_s(settings: Settings) -> float:
    """How long a run queues for the lease: past the time the guards take to free a stuck holder."""
    return 3 * settings.lease_timeout_seconds


def stream_slot(settings: Settings, source: str, *, max_seconds: float) -> SlotSummary:
    """Take the source's lease from the previous run, stream until a successor queues (or
    `max_seconds` pass), then hand over. Raises LeaseHeld when the lease never came."""
    summary = SlotSummary(source)
    sync = SourceRunner(settings, source, application_name=STREAM_APP)
    try:
        started = time.monotonic()
        if not sync.wait_acquire(lease_wait_s(settings)):
            raise LeaseHeld(f"{source}: the sync lease was not handed over within {lease_wait_s(settings):.0f} s")
        summary.waited_for_lease_s = time.monotonic() - started
        held_from = time.monotonic()
        log.debug("%s: took the sync lease after %.2f s; streaming", source, summary.waited_for_lease_s)
        reconciles = ReconcilePacer(settings)
        retries = RetryBackoff(source)
        while True:
            try:
                result = sync.poll_paced(reconciles)
            except CONNECTION_LOST as exc:    # a database restart: resume within this run, in seconds
                if time.monotonic() - held_from >= max_seconds:
                    raise
                message = db.first_line(exc)
                sync.record_error(message)
                sync.close()
                if not _take_back(sync, retries, message, until=held_from + max_seconds):
                    summary.ended_because = "another run took the lease while the databases were away"
                    break
                continue
            retries.succeeded()
            if summary.polls == 0 and sync.capture.stream_started_at is not None:
                summary.slot_taken_ms = (sync.capture.stream_started_at - held_from) * 1000
                if sync.capture.caught_up_at is not None:
                    summary.caught_up_ms = (sync.capture.caught_up_at - held_from) * 1000
            summary.record(result)
            waiters = sync.lease.waiters(when_requested=True)
            if any(is_successor(name) for name in waiters):
                summary.ended_because = "the next run queued for the lease; handed over"
                break
            if waiters:
                sync.capture.pause()            # a reconcile run streams from the slot meanwhile
                if not sync.lease.lend(lease_wait_s(settings)):
                    raise LeaseHeld(f"{source}: the lease lent to reconcile did not come back")
                summary.lent_to_reconcile += 1
                continue
            if time.monotonic() - held_from >= max_seconds:
                summary.ended_because = f"reached its {max_seconds:.0f} s limit with no successor queued"
                break
            sync.lease.sleep(sync.pause_after(result))
        summary.held_s = time.monotonic() - held_from
        return summary
    except Exception as exc:    # shown per source in the API; the task fails and Airflow retries
        sync.record_error(db.first_line(exc))
        raise
    finally:
        sync.close()            # releases the lease: the queued successor takes it at once
        if summary.ended_because:
            log.info("%s", summary.describe())


def _take_back(sync: SourceRunner, retries: RetryBackoff, message: str, *, until: float) -> bool:
    """After a failed poll, wait (`RetryBackoff`, 2 s at most) and take the lease again; False
    when another run holds it now. Raises the last failure when the databases are still away
    at `until` (the task fails and Airflow retries it)."""
    while True:
        time.sleep(retries.failed(message))
        try:
            return sync.try_acquire()
        except CONNECTION_LOST as exc:
            sync.close()
            if time.monotonic() >= until:
                raise
            message = db.first_line(exc)


def reconcile_slot(settings: Settings, source: str) -> PollResult | None:
    """Queue for the lease (a streaming run lends it), poll, repair differing buckets, release.

    A source whose capture streams its deletes (wal) needs the full check only as a safety net,
    every STREAMING_RECONCILE_EVERY_S: until then the run skips (None). The check holds the
    stream for as long as it takes, several seconds at 1,000,000 rows."""
    sync = SourceRunner(settings, source, application_name=RECONCILE_APP)
    try:
        sync.connect()
        if sync.capture.waits_for_changes:
            age_s = sync.lease.session.run("central/full_check_age.sql")[0][0]
            if age_s is not None and age_s < STREAMING_RECONCILE_EVERY_S:
                log.info("%s: full check skipped: the %s stream carries the deletes, and the last check ended "
                         "%.0f s ago (one every %.0f s)", source, sync.capture.name, age_s,
                         STREAMING_RECONCILE_EVERY_S)
                return None
        if not sync.wait_acquire(lease_wait_s(settings)):
            raise LeaseHeld(f"{source}: the sync lease was not free within {lease_wait_s(settings):.0f} s")
        result = sync.poll(reconcile_after=True)
        log.info("%s", result.describe())
        return result
    except Exception as exc:
        sync.record_error(db.first_line(exc))
        raise
    finally:
        sync.close()
