"""Registers `PhasedTimetable` with Airflow, so the scheduler can rebuild the DAGs' timetables.

Airflow only deserializes custom timetables that a plugin lists; the class itself lives in the
project's package (`pisa/airflow_timetable.py`), where the DAG file imports it too.
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from pisa.airflow_timetable import PhasedTimetable


class PisaSchedulePlugin(AirflowPlugin):
    """Each PISA DAG runs at its own phase of its period (see pisa.schedule)."""

    name = "pisa_schedule"
    timetables = [PhasedTimetable]
