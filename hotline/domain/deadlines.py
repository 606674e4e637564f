"""Deadlines of a case (docs/deadlines.md, "The deadline rule"), counted in Chinese working days.

The day a case is received does not count; `accept_due_date` is the end of the first working day
after it and `due_date` the end of the tenth (defaults; a line or category may set others).
`due_at` is 23:59:59 local time on `due_date`. Approved extensions add working days; a reopened
case counts afresh from the reopening.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .workdays import WorkCalendar

PROVINCE_TZ = ZoneInfo("Asia/Shanghai")

# The days the system reasons about. A date outside is refused as input: no case is that old or
# that far ahead, and year 1 or 9999 overflows on the way to UTC or in a period's arithmetic.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
DAY_RANGE_TEXT = f"Must be a date from {FIRST_DAY} to {LAST_DAY}."


def day_in_range(day: dt.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


DEFAULT_ACCEPT_DAYS = 1
DEFAULT_REPLY_DAYS = 10
DEFAULT_REMIND_DAYS = 2


@dataclass(frozen=True)
class Policy:
    """Time limits of a line or category, in working days."""

    accept_days: int = DEFAULT_ACCEPT_DAYS
    reply_days: int = DEFAULT_REPLY_DAYS
    remind_days: int = DEFAULT_REMIND_DAYS

    def overlaid(self, accept_days: int | None, reply_days: int | None,
                 remind_days: int | None) -> Policy:
        """This policy with a more specific one's numbers where it sets them (category over line)."""
        return Policy(
            accept_days if accept_days is not None else self.accept_days,
            reply_days if reply_days is not None else self.reply_days,
            remind_days if remind_days is not None else self.remind_days,
        )


@dataclass(frozen=True)
class Deadlines:
    accept_due_date: dt.date
    due_date: dt.date
    due_at: dt.datetime
    provisional: bool


def local_date(instant: dt.datetime) -> dt.date:
    """The province's calendar date of an instant."""
    return instant.astimezone(PROVINCE_TZ).date()


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=PROVINCE_TZ)


def compute_deadlines(base: dt.datetime, policy: Policy, extension_days: int,
                      calendar: WorkCalendar) -> Deadlines:
    """Deadlines counted from `base` (received, or reopened) with approved extensions added."""
    start = local_date(base)
    accept = calendar.add_working_days(start, policy.accept_days)
    due = calendar.add_working_days(start, policy.reply_days + extension_days)
    return Deadlines(
        accept_due_date=accept.date,
        due_date=due.date,
        due_at=end_of_day(due.date),
        provisional=accept.provisional or due.provisional,
    )
