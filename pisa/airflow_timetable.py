"""An Airflow Timetable that runs a DAG every period at its own phase: `PhasedTimetable`.

A run happens at every instant t with (t - 1970-01-01 UTC) mod period == phase, so DAGs given
different phases never tick together, whenever and however often they were parsed (a timedelta
schedule counts from the first parse instead, which put all forty DAGs in step). Runs are not
caught up: a DAG's first run is the next tick from now, each later one a period after the last,
and a scheduler that fell behind skips to the next tick still ahead rather than replaying the
ticks it missed. Each run's data interval is its tick itself, like a trigger timetable.

The scheduler rebuilds timetables from the serialized DAG, and it only does that for classes
registered by a plugin: `plugins/pisa_schedule_plugin.py` registers this one
(`AIRFLOW__CORE__PLUGINS_FOLDER`, set by `pisa.airflow_env`).
"""
from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pendulum
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable

from pisa import schedule

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def describe_seconds(span: timedelta) -> str:
    """`30 s`, `1.5 s`, `5 min`: a span as people write it."""
    seconds = span.total_seconds()
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def since_epoch(moment: datetime) -> timedelta:
    """Time from the Unix epoch to an aware `moment`, as a plain timedelta of whole microseconds."""
    # Integer arithmetic, so no float rounding moves a tick off its phase; and not `moment - EPOCH`,
    # which for a pendulum DateTime (what Airflow passes) is a pendulum Interval whose `//` and `%`
    # do not accept a timedelta.
    return timedelta(seconds=calendar.timegm(moment.utctimetuple()), microseconds=moment.microsecond)


class PhasedTimetable(Timetable):
    """Every `period`, at `phase` past each multiple of the period since the Unix epoch."""

    def __init__(self, period: timedelta, phase: timedelta = timedelta()) -> None:
        self.period = period
        self.phase = phase
        self.description = (f"every {describe_seconds(period)}, {describe_seconds(phase)} after each "
                            f"multiple of {describe_seconds(period)} since 1970-01-01 00:00 UTC")

    @classmethod
    def for_dag(cls, kind: schedule.DagKind, source: str, sources: Sequence[str]) -> PhasedTimetable:
        """The timetable of one source's sync or reconcile DAG (periods and phases: pisa.schedule)."""
        return cls(schedule.period(kind), schedule.phase(kind, source, sources))

    @property
    def summary(self) -> str:
        """What the UI shows in the schedule column, e.g. `every 30 s at +1.5 s`."""
        return f"every {describe_seconds(self.period)} at +{describe_seconds(self.phase)}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhasedTimetable):
            return NotImplemented
        return (self.period, self.phase) == (other.period, other.phase)

    def __hash__(self) -> int:
        return hash((self.period, self.phase))

    def __repr__(self) -> str:
        return f"PhasedTimetable(period={self.period!r}, phase={self.phase!r})"

    def validate(self) -> None:
        """Reject a period that is not positive or a phase outside [0, period)."""
        if self.period <= timedelta():
            raise AirflowTimetableInvalid(f"the period must be positive, not {self.period}")
        if not timedelta() <= self.phase < self.period:
            raise AirflowTimetableInvalid(f"the phase must be in [0, {self.period}), not {self.phase}")

    def serialize(self) -> dict[str, Any]:
        """Seconds as numbers: a timedelta of whole microseconds survives the round trip."""
        return {"period_seconds": self.period.total_seconds(), "phase_seconds": self.phase.total_seconds()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> PhasedTimetable:
        """The timetable `serialize` described."""
        return cls(timedelta(seconds=data["period_seconds"]), timedelta(seconds=data["phase_seconds"]))

    def tick_at_or_after(self, moment: datetime) -> pendulum.DateTime:
        """The first tick of this timetable at or after `moment`."""
        periods_ahead = -((self.phase - since_epoch(moment)) // self.period)     # ceiling division
        return pendulum.instance(EPOCH + self.phase + periods_ahead * self.period)

    def next_run_at(self, last_run: datetime | None, now: datetime, *, catchup: bool = False,
                    earliest: datetime | None = None) -> pendulum.DateTime:
        """When the run after `last_run` happens: a period later, or the next tick from now if
        that is already past (no catch-up); the first run is the next tick from now (or from
        `earliest` with catch-up)."""
        if last_run is not None:
            start = last_run + self.period if catchup else max(last_run + self.period, now)
        else:
            start = earliest if catchup and earliest is not None else now
        if earliest is not None:
            start = max(start, earliest)
        return self.tick_at_or_after(start)

    def next_dagrun_info(self, *, last_automated_data_interval: DataInterval | None,
                         restriction: TimeRestriction) -> DagRunInfo | None:
        """The next scheduled run: see `next_run_at`; none past the DAG's end date."""
        last_run = last_automated_data_interval.end if last_automated_data_interval else None
        run_at = self.next_run_at(last_run, datetime.now(timezone.utc), catchup=restriction.catchup,
                                  earliest=restriction.earliest)
        if restriction.latest is not None and run_at > restriction.latest:
            return None
        return DagRunInfo.exact(run_at)

    def infer_manual_data_interval(self, *, run_after: pendulum.DateTime) -> DataInterval:
        """A manual run covers the instant it was triggered, like a scheduled run covers its tick."""
        return DataInterval.exact(pendulum.instance(run_after))
