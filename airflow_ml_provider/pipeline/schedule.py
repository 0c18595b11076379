"""Azure ML v1's ``ScheduleRecurrence`` as an Airflow schedule.

``Pipeline(..., dag_id=..., schedule=ScheduleRecurrence(frequency="Day", interval=1,
hours=[2], minutes=[30]))`` runs the DAG at 02:30 every day. Every ``interval`` units with
no hours or minutes is a fixed interval (a ``timedelta``) from ``start_time``; given hours,
minutes or week days, it is a cron expression (``interval`` must then be 1, as cron has no
"every other day at 02:30"). ``time_zone`` is the zone of the hours and of ``start_time``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
_WEEK_DAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


def _error(problem: str, fix: str, argument: str) -> PipelineDefinitionError:
    return PipelineDefinitionError(problem, fix=fix, argument=f"ScheduleRecurrence.{argument}")


@dataclass(frozen=True)
class ScheduleRecurrence:
    """When a pipeline runs by the clock, in Azure ML v1's words."""

    frequency: str
    interval: int
    start_time: datetime | str | None = None
    time_zone: Any = None
    hours: list[int] = field(default_factory=list)
    minutes: list[int] = field(default_factory=list)
    week_days: list[str] = field(default_factory=list)
    time_of_day: str | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise _error(
                f"frequency {self.frequency!r} is not one of {', '.join(FREQUENCIES)}.",
                "Use one of those words.",
                "frequency",
            )
        if not isinstance(self.interval, int) or self.interval < 1:
            raise _error(
                f"interval {self.interval!r} is not a whole number of at least 1.",
                "Give 1 or more.",
                "interval",
            )

    @property
    def zone(self) -> ZoneInfo:
        name = getattr(self.time_zone, "value", self.time_zone) or "UTC"
        try:
            return ZoneInfo(str(name))
        except (KeyError, ValueError):
            raise _error(
                f"time_zone {name!r} is not an IANA time zone name.",
                'Give a name such as "Europe/Paris" or "UTC".',
                "time_zone",
            ) from None

    def start_date(self) -> datetime:
        """When the schedule starts, in its time zone (the DAG's ``start_date``)."""
        start = self.start_time
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start is None:
            start = datetime(2024, 1, 1)
        return start if start.tzinfo else start.replace(tzinfo=self.zone)

    def to_schedule(self) -> str | timedelta:
        """A cron expression, or a fixed interval when no time of day or week day is given."""
        hours, minutes = list(self.hours), list(self.minutes)
        if self.time_of_day:
            hour, _, minute = self.time_of_day.partition(":")
            hours, minutes = [int(hour)], [int(minute or 0)]
        if not (hours or minutes or self.week_days) and self.frequency != "Month":
            unit = {"Minute": "minutes", "Hour": "hours", "Day": "days", "Week": "weeks"}[self.frequency]
            return timedelta(**{unit: self.interval})
        if self.interval != 1:
            raise _error(
                f"every {self.interval} {self.frequency.lower()}s at given hours, minutes or week days has "
                "no cron equivalent.",
                "Use interval=1 with hours/minutes/week_days, or leave those out for a fixed interval.",
                "interval",
            )
        minute_field = ",".join(str(m) for m in minutes) or "0"
        hour_field = ",".join(str(h) for h in hours) or ("*" if self.frequency in ("Minute", "Hour") else "0")
        if self.frequency == "Minute":
            minute_field = "*"
        days = ",".join(_week_day(day) for day in self.week_days) or "*"
        day_of_month = str(self.start_date().day) if self.frequency == "Month" else "*"
        return f"{minute_field} {hour_field} {day_of_month} * {days}"

    def dag_arguments(self) -> dict[str, Any]:
        return {"schedule": self.to_schedule(), "start_date": self.start_date()}


def _week_day(day: str) -> str:
    short = _WEEK_DAYS.get(str(day).lower())
    if short is None:
        raise _error(
            f"week day {day!r} is not a day of the week.", 'Give names such as "Monday".', "week_days"
        )
    return short
