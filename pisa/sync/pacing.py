"""Pacing: space a source's polls, and its full checks, so that all sources stay under a CPU budget.

An xmin poll scans the source table, so its cost grows with the table. A source is polled no
more often than `cost x sources / PISA_MAX_POLL_DUTY` (never below `PISA_POLL_INTERVAL`). The cost
is the cheapest recent poll: a busy batch or a moment without CPU makes single polls slow, but
only a larger table makes every poll slow. A new runner polls at the base interval until it has
a few polls to judge by: its first ones run on new sessions beside the previous run's exit
(measured 55 to 70 ms against 19 ms), and judged by them a run taking over a source polled 2 to
3 s apart at first.
"""
from __future__ import annotations

import logging
import time
from collections import deque

from pisa.config import Settings

log = logging.getLogger(__name__)

COST_WINDOW = 20              # a poll's cost is the cheapest of the last this many polls
COST_SAMPLES_NEEDED = 5       # ... once there are at least this many
INTERVAL_LOG_CHANGE = 0.25    # log the interval again when it moves by more than this share
SPACING_NOTABLE_S = 1.0       # a change of pace that leaves data this old or older is logged at INFO
RECONCILE_FLOOR_S = 5.0       # a full check at most this often (deletes need none: see poll.py)
RECONCILE_CEILING_S = 60.0    # ... and at least this often, however busy the polls
RECONCILE_COST_WINDOW = 5     # a check's cost is the cheapest of the last this many
# A capture that streams deletes (wal) needs the full check only as a safety net for what no
# stream shows (a central copy restored or edited by hand): hourly. The check holds the stream
# while it runs (measured under Airflow at 1,000,000 rows a source: one held a source's rows back
# for 9 s), so every 5 minutes would cost the freshness tail.
STREAMING_RECONCILE_EVERY_S = 3600.0
# The share of PISA_MAX_POLL_DUTY that full checks may use; polls keep the rest. Measured under
# Airflow on the 2-core box: checks every 2 s from twenty sources (about 0.4 of a core) pushed the
# inserts' p99 from 0.35 s to 1 to 3 s; a quarter still cost the tail at 500 rows/s. Deletes
# now leave with each poll's count check, and full checks only catch rare drift (rows back at
# an old version): a tenth is plenty.
RECONCILE_SHARE = 0.1
# Paced polls check the row counts for deletes at most this often: a delete leaves the figures
# within about this plus a poll. (On every poll, two to four a second, the count's ~2 ms at
# 10,000 rows made polls a third dearer, and so a third further apart, for every insert.)
DELETE_CHECK_EVERY_S = 1.0
RETRY_FIRST_S = 0.5           # after a failed poll, the first retry comes this soon
RETRY_MAX_S = 2.0             # ... and later ones at most this far apart


class PollPacer:
    """The interval between two polls of one source, adapted to what its polls cost."""

    def __init__(self, settings: Settings, source: str):
        self.settings = settings
        self.source = source
        self.interval_s = settings.poll_interval
        self.cost_s = 0.0
        self._recent: deque[float] = deque(maxlen=COST_WINDOW)
        self._logged_interval_s = settings.poll_interval

    def record(self, duration_s: float) -> float:
        """Account for one poll that took `duration_s`; the interval to keep from now on."""
        self._recent.append(duration_s)
        if len(self._recent) < COST_SAMPLES_NEEDED:
            return self.interval_s
        settings = self.settings
        self.cost_s = min(self._recent)
        poll_duty = (1 - RECONCILE_SHARE) * settings.max_poll_duty
        budget_interval = self.cost_s * len(settings.sources) / poll_duty
        # Capped well below the lease timeout: an idle holder's session must never expire.
        self.interval_s = min(max(settings.poll_interval, budget_interval), settings.lease_timeout_seconds / 3)
        if abs(self.interval_s - self._logged_interval_s) > INTERVAL_LOG_CHANGE * self._logged_interval_s:
            # Ops reads it where a second is at stake (Level 3): spaced past it, or back under it.
            at_stake = max(self.interval_s, self._logged_interval_s) + self.cost_s >= SPACING_NOTABLE_S
            log.log(logging.INFO if at_stake else logging.DEBUG,
                    "%s: a poll costs %.0f ms; polling every %.2f s to keep the polls of %d sources "
                    "under %.0f%% of a core (data is then at most about %.1f s old)",
                    self.source, self.cost_s * 1000, self.interval_s, len(settings.sources),
                    poll_duty * 100, self.interval_s + self.cost_s)
            self._logged_interval_s = self.interval_s
        return self.interval_s

    def pause_after(self, duration_s: float) -> float:
        """Seconds to wait after a poll that took `duration_s` before the next one starts."""
        return max(0.0, self.interval_s - duration_s)


class ReconcilePacer:
    """When a source's next full check (reconcile: the drift xmin cannot see) is due.

    Paced by the same budget as the polls: checks of all sources together may use RECONCILE_SHARE
    of `PISA_MAX_POLL_DUTY` (polls the rest), but a check comes no more often than every
    RECONCILE_FLOOR_S and no less often than every RECONCILE_CEILING_S.
    `every_s` fixes the interval instead (`pisa sync --reconcile-every`; infinity: never).
    """

    def __init__(self, settings: Settings, every_s: float | None = None):
        self.settings = settings
        self.every_s = every_s
        self.interval_s = every_s if every_s is not None else RECONCILE_FLOOR_S
        self.last_at = time.monotonic()
        self.next_at = self.last_at + self.interval_s
        self._recent: deque[float] = deque(maxlen=RECONCILE_COST_WINDOW)

    def due(self, *, streaming: bool = False) -> bool:
        """True when the next poll should also reconcile (`streaming`: of a capture that
        streams deletes, every STREAMING_RECONCILE_EVERY_S unless `every_s` fixes it)."""
        if streaming and self.every_s is None:
            return time.monotonic() >= self.last_at + STREAMING_RECONCILE_EVERY_S
        return time.monotonic() >= self.next_at

    def record(self, check_s: float) -> float:
        """Account for a comparison that cost `check_s`; the interval until the next one. The
        cost is the cheapest of the last few: one check starved of CPU must not space them out."""
        self._recent.append(check_s)
        if self.every_s is None:
            budget = RECONCILE_SHARE * self.settings.max_poll_duty
            wanted = min(self._recent) * len(self.settings.sources) / budget
            self.interval_s = min(max(wanted, RECONCILE_FLOOR_S), RECONCILE_CEILING_S)
        self.last_at = time.monotonic()
        self.next_at = self.last_at + self.interval_s
        return self.interval_s


class RetryBackoff:
    """The wait before retrying a source after a failed poll: 0.5 s, doubling to RETRY_MAX_S.

    Short on purpose: a database that restarts answers again within seconds, and every source
    must resume within RETRY_MAX_S of that; twenty sources retrying every 2 s cost nothing. Only
    the first failure of a run of them is a warning; the repeats are counted and the recovery
    says how long the outage lasted.
    """

    def __init__(self, source: str):
        self.source = source
        self.wait_s = 0.0
        self.failures = 0
        self._since = 0.0

    def failed(self, message: str, *, exc_info: bool = False) -> float:
        """Account for one failure; the seconds to wait before the next try."""
        if not self.failures:
            self._since = time.monotonic()
            log.warning("%s: sync failed (%s); retrying every %.1f s at most until it works", self.source,
                        message, RETRY_MAX_S, exc_info=exc_info)
        else:
            log.debug("%s: sync failed again (%s)", self.source, message)
        self.failures += 1
        self.wait_s = min(RETRY_MAX_S, self.wait_s * 2 or RETRY_FIRST_S)
        return self.wait_s

    def succeeded(self) -> None:
        """A poll worked: log the recovery, if any, and start over."""
        if self.failures:
            log.info("%s: recovered, syncing again after %d failed attempts over %.1f s", self.source,
                     self.failures, time.monotonic() - self._since)
        self.wait_s, self.failures = 0.0, 0
