"""When each source's DAGs run: the one place for the periods, the phases and the DAG ids.

Every source has two DAGs: `pisa_sync_<cnt>` every 30 s and `pisa_reconcile_<cnt>` every 5 min.
If they all ticked at the same instant, twenty task start-ups (1 to 3 s of CPU each) would land in
the same second and starve every running stream. So each DAG has a phase within its period:
source i of n syncs at i x 30 s / n (1.5 s apart for twenty), and reconciles at i x 5 min / n plus
half a sync spacing, which falls half-way between two sync ticks (the reconcile period is a whole
number of sync periods, so i x 5 min / n is itself a sync tick). The Airflow side of this is
`pisa.airflow_timetable`; this module imports nothing from Airflow, so tests and benchmarks can use it.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

DagKind = Literal["sync", "reconcile"]

SYNC_PERIOD = timedelta(seconds=30)
RECONCILE_PERIOD = timedelta(minutes=5)
PERIODS: dict[str, timedelta] = {"sync": SYNC_PERIOD, "reconcile": RECONCILE_PERIOD}


def dag_id(kind: DagKind, source: str) -> str:
    """The DAG id of one source's sync or reconcile DAG, e.g. `pisa_sync_alb`."""
    period(kind)                # rejects an unknown kind
    return f"pisa_{kind}_{source.lower()}"


def period(kind: DagKind) -> timedelta:
    """How often a DAG of this kind runs."""
    if kind not in PERIODS:
        raise ValueError(f"unknown DAG kind {kind!r}; expected one of {sorted(PERIODS)}")
    return PERIODS[kind]


def phase(kind: DagKind, source: str, sources: Sequence[str]) -> timedelta:
    """How far into each period this source's DAG of this kind runs (see the module docstring)."""
    every = period(kind)
    index, count = list(sources).index(source), len(sources)
    sync_spacing = SYNC_PERIOD / count
    if kind == "sync":
        return index * sync_spacing
    return index * (every / count) + sync_spacing / 2
