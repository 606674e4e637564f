"""Chinese working days (工作日): weekends and statutory holidays off, adjusted workdays (调休) on.

Years covered by the published State Council schedule come from the maintained
`chinesecalendar` package. An admin may set or correct any year (the schedule of the next year is
published around November); such an override replaces the package's data for that year. For a
year nobody has published, weekdays are working days and every answer is marked provisional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar

try:
    CALENDAR_SOURCE = f"chinesecalendar {version('chinesecalendar')}"
except PackageNotFoundError:  # pragma: no cover - installed under its other distribution name
    CALENDAR_SOURCE = "chinesecalendar"

def _package_covers(year: int) -> bool:
    # The package raises NotImplementedError outside the years it has data for.
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


PACKAGE_YEARS = frozenset(y for y in range(2004, 2101) if _package_covers(y))


# Counting working days stops here: about twenty years, more than any case stays open.
COUNT_LIMIT = 5000


@dataclass(frozen=True)
class YearOverride:
    """An admin-set year: `holidays` are days off, `workdays` weekend days that are worked."""

    year: int
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)


@dataclass(frozen=True)
class WorkingDay:
    date: dt.date
    provisional: bool


class WorkCalendar:
    """Answers "is this a working day" and counts working days, with per-year overrides."""

    def __init__(self, overrides: dict[int, YearOverride] | None = None):
        self.overrides = dict(overrides or {})
        # Every deadline counts the same few weeks of days again, and the package checks its
        # argument at each call: its answers are kept (a calendar lives a short while).
        self._package_days: dict[dt.date, bool] = {}

    def source(self, year: int) -> str | None:
        """Where the year's schedule comes from, or None when nobody has published it."""
        if year in self.overrides:
            return "admin"
        if year in PACKAGE_YEARS:
            return CALENDAR_SOURCE
        return None

    def is_published(self, year: int) -> bool:
        return self.source(year) is not None

    def is_workday(self, day: dt.date) -> bool:
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.holidays:
                return False
            if day in override.workdays:
                return True
            return day.weekday() < 5
        if day.year in PACKAGE_YEARS:
            known = self._package_days.get(day)
            if known is None:
                known = self._package_days[day] = chinese_calendar.is_workday(day)
            return known
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> WorkingDay:
        """The n-th working day after `start` (the start day itself never counts).

        Provisional when any day counted lies in a year with no published schedule.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day = start
        provisional = not self.is_published(day.year) if n == 0 else False
        counted = 0
        while counted < n:
            day += dt.timedelta(days=1)
            if not self.is_published(day.year):
                provisional = True
            if self.is_workday(day):
                counted += 1
        return WorkingDay(day, provisional)

    def working_days_between(self, start: dt.date, end: dt.date,
                             limit: int = COUNT_LIMIT) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start), counted
        up to `limit`: a count that reaches it is `limit` (so one case with an ancient date
        costs a few thousand steps, not hundreds of thousands)."""
        count = 0
        day = start
        while day < end and count < limit:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def year_days(self, year: int) -> tuple[list[dt.date], list[dt.date]]:
        """The year's weekday holidays and weekend workdays, as the calendar API shows them."""
        override = self.overrides.get(year)
        if override is not None:
            return sorted(override.holidays), sorted(override.workdays)
        holidays: list[dt.date] = []
        workdays: list[dt.date] = []
        if year not in PACKAGE_YEARS:
            return holidays, workdays
        day = dt.date(year, 1, 1)
        while day.year == year:
            weekend = day.weekday() >= 5
            working = chinese_calendar.is_workday(day)
            if not weekend and not working:
                holidays.append(day)
            elif weekend and working:
                workdays.append(day)
            day += dt.timedelta(days=1)
        return holidays, workdays
