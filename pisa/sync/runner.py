"""The sync loop of one source, and of all of them: used by the CLI, the DAGs and the tests.

A poll: take the lease, read the source snapshot, stream the changed rows, parse them and apply
them batch by batch; the last batch moves the watermark. With `reconcile=True` the same snapshot
is then compared bucket by bucket with the central copy and the differing buckets repaired.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg2

from pisa import db
from pisa.config import Settings
from pisa.errors import PisaError
from pisa.sync import changes, reconcile
from pisa.sync.apply import CentralSession, StateUpdate
from pisa.sync.validate import parse_rows

log = logging.getLogger(__name__)

LEASE_RETRY_S = 1.0
MAX_BACKOFF_S = 30.0
COST_WINDOW = 20              # a poll's cost is the cheapest of the last this many polls
COST_SAMPLES_NEEDED = 5       # ... once there are at least this many
INTERVAL_LOG_CHANGE = 0.25    # log the poll interval again when it moves by more than this share
ANALYZE_AFTER_GROWTH = 0.2    # refresh planner statistics when a poll grows a source by this share
ANALYZE_MIN_ROWS = 5000


@dataclass
class PollResult:
    """What one poll of one source did."""

    source: str
    status: str                      # 'ok', 'skipped' (lease held elsewhere) or 'failed'
    read: int = 0
    changed: int = 0
    inserted: int = 0
    deleted: int = 0
    synced_through: datetime | None = None
    lag_s: float | None = None
    duration_s: float = 0.0
    repaired_buckets: int | None = None
    error: str | None = None

    def describe(self) -> str:
        """One line a person can act on."""
        if self.status == "skipped":
            return f"{self.source}: skipped, another runner holds its sync lease"
        if self.status == "failed":
            return f"{self.source}: FAILED: {self.error}"
        text = (f"{self.source}: read {self.read} rows, applied {self.changed} changed "
                f"({self.inserted} new), deleted {self.deleted}; synced through "
                f"{self.synced_through:%H:%M:%S.%f}"[:-3] + f" UTC, lag {self.lag_s * 1000:.0f} ms, "
                f"took {self.duration_s * 1000:.0f} ms")
        if self.repaired_buckets is not None:
            text += f"; reconcile repaired {self.repaired_buckets} bucket(s)"
        return text


class SourceRunner:
    """Syncs one source: owns its source connection and its central session (and lease)."""

    def __init__(self, settings: Settings, source: str, application_name: str = "pisa-sync"):
        self.settings = settings
        self.source = source
        self.application_name = application_name
        self.central: CentralSession | None = None
        self.source_conn = None
        self.poll_interval = settings.poll_interval
        self._recent_durations: deque[float] = deque(maxlen=COST_WINDOW)
        self._cost_s = 0.0
        self._logged_interval = settings.poll_interval

    # -- connections and lease ---------------------------------------------------------------
    def try_acquire(self) -> bool:
        """Connect, then take the source's lease; False when another runner holds it."""
        return self._acquire(lambda central: central.try_acquire_lease())

    def wait_acquire(self, timeout_s: float) -> bool:
        """Connect, then queue behind the lease's holder for at most `timeout_s`."""
        return self._acquire(lambda central: central.wait_for_lease(timeout_s))

    def _acquire(self, take_lease) -> bool:
        # Both connections first: a successor handed the lease polls at once, with no connect
        # in the handover gap. (Who may record a failure: see record_error.)
        if self.central is None:
            self.central = CentralSession(self.settings.central_url, self.source, self.application_name,
                                          lease_timeout_s=self.settings.lease_timeout_seconds)
        if self.source_conn is None:
            self.source_conn = db.connect_source(self.settings.source_url(self.source), application_name=self.application_name)
        return take_lease(self.central)

    def record_error(self, message: str) -> None:
        """Record a failure in sync_state, only while holding the lease: a bystander's view of a
        source (say an unreachable network path) must not mark a working holder's sync as failed,
        but when no one holds the lease, the failure is the source's state."""
        if self.central is None or self.central.conn.closed:
            return
        try:
            borrowed = not self.central.holds_lease and self.central.try_acquire_lease()
        except Exception:  # the central DB itself may be what failed
            return
        if self.central.holds_lease:
            self.central.record_error(message)
            if borrowed:
                self.central.release_lease()

    def close(self) -> None:
        """Close both connections; the lease goes with the central one."""
        for closing in (self.source_conn, self.central):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # already broken: nothing left to free
                    pass
        self.source_conn = self.central = None

    # -- one poll ------------------------------------------------------------------------------
    def poll(self, reconcile_after: bool = False) -> PollResult:
        """One poll under the lease (call try_acquire first). Raises on failure."""
        started = time.monotonic()
        central, conn = self.central, self.source_conn
        state = central.load_state()
        result = PollResult(self.source, "ok")
        try:
            snapshot = changes.begin_snapshot(conn)
            watermark = changes.usable_watermark(self.source, state.watermark, snapshot)

            def apply(rows: list[tuple], final: bool, deleted_ids: list[int] = ()) -> None:
                facts, issues = parse_rows(self.source, rows)
                update = StateUpdate(final, snapshot.xmin, snapshot.taken_at,
                                     poll_ms=(time.monotonic() - started) * 1000 if final else None,
                                     poll_interval_s=self.poll_interval if final else None)
                batch = central.apply_batch(facts, issues, seen_at=snapshot.taken_at, state=update,
                                            deleted_ids=deleted_ids)
                result.read += len(rows)
                result.changed += batch.changed
                result.inserted += batch.inserted
                result.deleted += batch.deleted

            self._apply_stream(changes.stream_changed_rows(conn, watermark, self.settings.batch_rows),
                               apply, last_is_final=not reconcile_after)
            if reconcile_after:
                result.repaired_buckets = self._reconcile(apply, state.rows + result.inserted)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        if result.inserted >= max(ANALYZE_MIN_ROWS, ANALYZE_AFTER_GROWTH * state.rows):
            central.analyze_facts()
        result.synced_through = snapshot.taken_at
        result.lag_s = (datetime.now(timezone.utc) - snapshot.taken_at).total_seconds()
        result.duration_s = time.monotonic() - started
        return result

    @staticmethod
    def _apply_stream(batches, apply, *, last_is_final: bool) -> None:
        # Look one batch ahead: the last batch carries the watermark (and reconcile's deletes).
        current = next(batches)
        while True:
            following = next(batches, None)
            if following is None:
                apply(current, last_is_final)
                return
            apply(current, False)
            current = following

    def _reconcile(self, apply, approx_rows: int) -> int:
        buckets = reconcile.bucket_count(approx_rows)
        source_side = changes.bucket_checksums(self.source_conn, buckets)
        central_side = self.central.bucket_checksums(buckets)
        differing = reconcile.differing_buckets(source_side, central_side)
        if not differing:
            apply([], True)
            note = f"all {buckets} buckets equal"
        else:
            central_ids = self.central.ids_in_buckets(buckets, differing)
            seen: set[int] = set()

            def apply_and_track(rows, final):
                seen.update(row[0] for row in rows)
                apply(rows, final, sorted(central_ids - seen) if final else ())

            self._apply_stream(changes.stream_rows_in_buckets(self.source_conn, buckets, differing, self.settings.batch_rows),
                               apply_and_track, last_is_final=True)
            note = f"{len(differing)} of {buckets} buckets differed and were repaired"
            log.info("%s: reconcile: %s", self.source, note)
        self.central.record_reconcile(note)
        return len(differing)

    # -- follow mode ---------------------------------------------------------------------------
    def adapt_interval(self, duration_s: float) -> None:
        """Space polls out so that all sources' polls together stay under the duty budget.

        The cost is the cheapest recent poll: a busy batch or a moment without CPU makes single
        polls slow, but only a larger table makes every poll slow. A new runner polls at the
        base interval until it has a few polls to judge by: its first ones run on new sessions
        and beside the previous run's exit (measured 55 to 70 ms against 19 ms), and judged by
        them a run taking over a source polled 2 to 3 s apart at first.
        """
        self._recent_durations.append(duration_s)
        if len(self._recent_durations) < COST_SAMPLES_NEEDED:
            return
        self._cost_s = min(self._recent_durations)
        budget_interval = self._cost_s * len(self.settings.sources) / self.settings.max_poll_duty
        # Capped well below the lease timeout: an idle holder's session must never expire.
        self.poll_interval = min(max(self.settings.poll_interval, budget_interval),
                                 self.settings.lease_timeout_seconds / 3)
        if abs(self.poll_interval - self._logged_interval) > INTERVAL_LOG_CHANGE * self._logged_interval:
            log.info("%s: a poll costs %.0f ms; polling every %.2f s to keep the polls of %d sources "
                     "under %.0f%% of a core (data is then at most about %.1f s old)",
                     self.source, self._cost_s * 1000, self.poll_interval, len(self.settings.sources),
                     self.settings.max_poll_duty * 100, self.poll_interval + self._cost_s)
            self._logged_interval = self.poll_interval

    def follow(self, stop: threading.Event, reconcile_every_s: float | None = None) -> None:
        """Poll until `stop` is set: log each batch, reconcile periodically, back off on errors."""
        backoff = 0.0
        waiting_logged = False
        last_reconcile = time.monotonic()
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
                    reconcile_due = reconcile_every_s is not None and time.monotonic() - last_reconcile >= reconcile_every_s
                    if reconcile_due:     # counted as done even if it fails: plain polls go on
                        last_reconcile = time.monotonic()
                    result = self.poll(reconcile_after=reconcile_due)
                    if result.changed or result.deleted or result.repaired_buckets:
                        log.info("%s", result.describe())
                    if backoff:
                        log.info("%s: recovered, syncing again", self.source)
                    backoff = 0.0
                    self.adapt_interval(result.duration_s)
                    stop.wait(max(0.0, self.poll_interval - result.duration_s))
                except Exception as exc:  # a follower must outlive any one failed poll
                    backoff = min(MAX_BACKOFF_S, backoff * 2 or 1.0)
                    message = db.first_line(exc)
                    expected = isinstance(exc, (PisaError, psycopg2.Error))
                    log.warning("%s: sync failed (%s); retrying in %.0f s", self.source, message, backoff,
                                exc_info=not expected)
                    self.record_error(message)
                    self.close()
                    stop.wait(backoff)
        finally:
            self.close()


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
