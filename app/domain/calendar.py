"""Working days on the official calendar (R3.3's three working days).

The State Council publishes each year's holidays and the weekends worked in
exchange (调休) late in the year before. ``chinesecalendar`` carries the
years published when it was released; for a later year an administrator
loads the official list, and a loaded year always takes precedence over the
library (so a correction is possible). A date in a year that neither knows
raises ``CalendarUnknown``; it is never guessed from weekdays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import chinese_calendar


class CalendarUnknown(LookupError):
    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


@dataclass(frozen=True, slots=True)
class LoadedYear:
    """An administrator's list for one year: holidays and adjusted workdays."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


class WorkingCalendar:
    def __init__(self, loaded: Mapping[int, LoadedYear] | None = None) -> None:
        self._loaded = dict(loaded or {})

    def is_working_day(self, day: dt.date) -> bool:
        year = self._loaded.get(day.year)
        if year is not None:
            if day in year.workdays:
                return True
            if day in year.holidays:
                return False
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise CalendarUnknown(day.year) from exc

    def knows(self, year: int) -> bool:
        if year in self._loaded:
            return True
        try:
            chinese_calendar.is_workday(dt.date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted).

        Intake on a Friday with three working days gives the next Wednesday
        on an ordinary week; a holiday week pushes it further.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current
