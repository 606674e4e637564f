"""Report periods (统计周期): a week (周调度), a month (月通报), a quarter (季点评), a year, or
any range of local dates.

Labels are the ones the CLI and the API take: `2026-W44` (ISO week, Monday to Sunday),
`2026-10`, `2026-Q4`, `2026`, and `2026-10-01..2026-10-15`. A period's days are dates in the
province (Asia/Shanghai); a case belongs to the period when it was received between local
midnight of the first day and local midnight after the last.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..domain.deadlines import DAY_RANGE_TEXT, FIRST_DAY, LAST_DAY, PROVINCE_TZ, day_in_range
from ..domain.errors import ValidationFailed

KINDS = ("week", "month", "quarter", "year", "range")
QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
KIND_NAMES = {"week": "周", "month": "月", "quarter": "季度", "year": "年度", "range": "期间"}

PERIOD_HELP = ("Use 2026-W44 (week), 2026-10 (month), 2026-Q4 (quarter), 2026 (year) "
               "or 2026-10-01..2026-10-15.")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """Local dates `start`..`end`, both included."""

    kind: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> dt.datetime:
        """Local midnight at the start of the first day, as an aware instant."""
        return dt.datetime.combine(self.start, dt.time(), tzinfo=PROVINCE_TZ)

    @property
    def end_before(self) -> dt.datetime:
        """Local midnight after the last day: the period holds instants strictly before it."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=PROVINCE_TZ)

    @property
    def title(self) -> str:
        """The period as a bulletin heading names it: 2026年10月, 2026年第四季度."""
        if self.kind == "week":
            year, week = self.label.split("-W")
            return (f"{year}年第{int(week)}周（{self.start.month}月{self.start.day}日—"
                    f"{self.end.month}月{self.end.day}日）")
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年{QUARTER_NAMES[(self.start.month - 1) // 3 + 1]}"
        if self.kind == "year":
            return f"{self.start.year}年"
        return f"{_cn_date(self.start)}至{_cn_date(self.end)}"

    def previous(self) -> Period:
        """The period just before, of the same kind (for "rising against the previous period")."""
        if self.kind == "week":
            return week_of(self.start - dt.timedelta(days=7))
        if self.kind == "month":
            return month_of(self.start - dt.timedelta(days=1))
        if self.kind == "quarter":
            return quarter_of(self.start - dt.timedelta(days=1))
        if self.kind == "year":
            return _parse_period(str(self.start.year - 1))
        end = self.start - dt.timedelta(days=1)
        return date_range(end - dt.timedelta(days=self.days - 1), end)

    def contains(self, instant: dt.datetime) -> bool:
        return self.start_at <= instant < self.end_before


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def week_of(day: dt.date) -> Period:
    year, week, weekday = day.isocalendar()
    start = day - dt.timedelta(days=weekday - 1)
    return Period("week", f"{year}-W{week:02d}", start, start + dt.timedelta(days=6))


def month_of(day: dt.date) -> Period:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Period("month", f"{day.year}-{day.month:02d}", start, end)


def quarter_of(day: dt.date) -> Period:
    q = (day.month - 1) // 3 + 1
    start = dt.date(day.year, 3 * q - 2, 1)
    end = month_of(dt.date(day.year, 3 * q, 1)).end
    return Period("quarter", f"{day.year}-Q{q}", start, end)


def date_range(start: dt.date, end: dt.date) -> Period:
    if end < start:
        raise ValidationFailed("the period ends before it starts",
                               {"to": ["Must not be before 'from'."]})
    return Period("range", f"{start.isoformat()}..{end.isoformat()}", start, end)


def parse_period(text: str) -> Period:
    """`2026-W44`, `2026-10`, `2026-Q4`, `2026` or `2026-10-01..2026-10-15`."""
    year = (text or "").strip()[:4]
    if year.isdigit() and not FIRST_DAY.year <= int(year) <= LAST_DAY.year:
        raise ValidationFailed(f"not a period the reports cover: {text!r}",
                               {"period": [DAY_RANGE_TEXT]})
    period = _parse_period(text)
    if not (day_in_range(period.start) and day_in_range(period.end)):
        raise ValidationFailed(f"not a period the reports cover: {text!r}",
                               {"period": [DAY_RANGE_TEXT]})
    return period


def _parse_period(text: str) -> Period:
    text = (text or "").strip()
    try:
        if m := _WEEK.match(text):
            return week_of(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
        if m := _MONTH.match(text):
            return month_of(dt.date(int(m[1]), int(m[2]), 1))
        if m := _QUARTER.match(text):
            return quarter_of(dt.date(int(m[1]), 3 * int(m[2]), 1))
        if m := _YEAR.match(text):
            year = int(m[1])
            return Period("year", str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))
        if m := _RANGE.match(text):
            return date_range(dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2]))
    except ValueError:
        pass  # a month 13 or a week 54: said below like any other bad label
    raise ValidationFailed(
        f"not a period: {text!r}",
        {"period": [PERIOD_HELP]})


def last_complete(kind: str, today: dt.date) -> Period:
    """The latest week, month or quarter that ended before `today` (the bulletin that is due)."""
    if kind == "week":
        return week_of(today - dt.timedelta(days=7))
    if kind == "month":
        return month_of(today.replace(day=1) - dt.timedelta(days=1))
    if kind == "quarter":
        return quarter_of(quarter_of(today).start - dt.timedelta(days=1))
    if kind == "year":
        return parse_period(str(today.year - 1))
    raise ValueError(f"no periodic bulletin of kind {kind!r}")
