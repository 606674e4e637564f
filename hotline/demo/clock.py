"""The demo history's time: when citizens write or call (cases per day by line, working day
or not, and their hours) and when staff act (office hours on working days of the centre's
calendar, with the spread of a real desk's delays). One random generator drives it and the
rest of the history, so a seed and `now` give the same past every time."""

from __future__ import annotations

import datetime as dt
import random

from ..domain.deadlines import PROVINCE_TZ, local_date
from ..domain.workdays import WorkCalendar

# Cases per day (low, high) on working days and on days off; hours of arrival with weights.
VOLUME = {"fupin": ((4, 9), (2, 4)), "zhitongche": ((1, 4), (0, 0)), "board": ((1, 4), (1, 2))}
HOURS = {
    # 扶贫专线 answers around the clock, but most people call in the day.
    "fupin": [(0, 1), (1, 1), (6, 1), (7, 3), (8, 8), (9, 10), (10, 10), (11, 8), (12, 5),
              (13, 5), (14, 8), (15, 9), (16, 9), (17, 6), (18, 4), (19, 5), (20, 5), (21, 3),
              (22, 2), (23, 1)],
    "zhitongche": [(9, 10), (10, 10), (11, 8), (13, 6), (14, 9), (15, 9), (16, 7)],
    "board": [(7, 2), (8, 4), (9, 6), (10, 6), (11, 5), (12, 5), (13, 4), (14, 5), (15, 5),
              (16, 5), (17, 4), (18, 4), (19, 5), (20, 7), (21, 8), (22, 7), (23, 4), (0, 2)],
}


class OfficeClock:
    """Moments of the history, drawn from `rng` on `calendar`, up to `now`."""

    def __init__(self, rng: random.Random, calendar: WorkCalendar, now: dt.datetime):
        self.rng = rng
        self.calendar = calendar
        self.now = now

    def local(self, t: dt.datetime) -> dt.datetime:
        return t.astimezone(PROVINCE_TZ)

    def office(self, t: dt.datetime) -> dt.datetime:
        """`t`, or the next moment staff are at their desks (working days 8:30–17:30)."""
        lt = self.local(t)
        day = lt.date()
        opening = dt.datetime.combine(day, dt.time(8, 30), tzinfo=PROVINCE_TZ)
        closing = dt.datetime.combine(day, dt.time(17, 30), tzinfo=PROVINCE_TZ)
        if self.calendar.is_workday(day) and opening <= lt < closing:
            return t
        if not (self.calendar.is_workday(day) and lt < opening):
            day = self.calendar.add_working_days(day, 1).date
        start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=PROVINCE_TZ)
        return start + dt.timedelta(minutes=self.rng.randint(0, 100))

    def after(self, t: dt.datetime, low_minutes: float, high_minutes: float) -> dt.datetime:
        return self.office(t + dt.timedelta(minutes=self.rng.uniform(low_minutes, high_minutes)))

    def on_working_day(self, start: dt.datetime, n: int) -> dt.datetime:
        """Some office hour of the n-th working day after `start`'s day."""
        day = self.calendar.add_working_days(local_date(start), n).date
        at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=PROVINCE_TZ)
        return max(at + dt.timedelta(minutes=self.rng.randint(0, 480)), start)

    def arrivals(self, days: int) -> list[tuple[dt.datetime, str]]:
        """When each case of the last `days` days came in, and on which line, in time order
        (none in the last five minutes before now)."""
        today = local_date(self.now)
        out = []
        for back in range(days, -1, -1):
            day = today - dt.timedelta(days=back)
            workday = self.calendar.is_workday(day)
            for line, (on, off) in VOLUME.items():
                low, high = on if workday else off
                for _ in range(self.rng.randint(low, high)):
                    hours, weights = zip(*HOURS[line], strict=True)
                    hour = self.rng.choices(hours, weights)[0]
                    at = dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59),
                                                          self.rng.randint(0, 59)),
                                             tzinfo=PROVINCE_TZ)
                    if at < self.now - dt.timedelta(minutes=5):
                        out.append((at, line))
        out.sort()
        return out
