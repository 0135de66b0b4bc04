"""Poll pacing: space a source's polls so that all sources' polls stay under a CPU budget.

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
from collections import deque

from pisa.config import Settings

log = logging.getLogger(__name__)

COST_WINDOW = 20              # a poll's cost is the cheapest of the last this many polls
COST_SAMPLES_NEEDED = 5       # ... once there are at least this many
INTERVAL_LOG_CHANGE = 0.25    # log the interval again when it moves by more than this share


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
        budget_interval = self.cost_s * len(settings.sources) / settings.max_poll_duty
        # Capped well below the lease timeout: an idle holder's session must never expire.
        self.interval_s = min(max(settings.poll_interval, budget_interval), settings.lease_timeout_seconds / 3)
        if abs(self.interval_s - self._logged_interval_s) > INTERVAL_LOG_CHANGE * self._logged_interval_s:
            log.info("%s: a poll costs %.0f ms; polling every %.2f s to keep the polls of %d sources "
                     "under %.0f%% of a core (data is then at most about %.1f s old)",
                     self.source, self.cost_s * 1000, self.interval_s, len(settings.sources),
                     settings.max_poll_duty * 100, self.interval_s + self.cost_s)
            self._logged_interval_s = self.interval_s
        return self.interval_s

    def pause_after(self, duration_s: float) -> float:
        """Seconds to wait after a poll that took `duration_s` before the next one starts."""
        return max(0.0, self.interval_s - duration_s)
