"""Deadlines in Chinese working days, with real 2026 dates (docs/deadlines.md, "The deadline rule")."""

from __future__ import annotations

import datetime as dt

from hotline.domain.deadlines import PROVINCE_TZ, Policy, compute_deadlines
from hotline.domain.workdays import WorkCalendar, YearOverride

D = dt.date
CAL = WorkCalendar()


def received(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=PROVINCE_TZ)


def test_case_received_the_friday_before_national_day_skips_both_holidays():
    # 2026-09-25 is a Friday and the first day of the Mid-Autumn break; National Day runs
    # 10-01..10-07 and Saturday 10-10 is an adjusted workday.
    d = compute_deadlines(received(2026, 9, 25), Policy(), 0, CAL)
    assert d.accept_due_date == D(2026, 9, 28)
    assert d.due_date == D(2026, 10, 15)
    assert not d.provisional


def test_case_received_on_the_last_workday_before_the_holiday_counts_the_adjusted_saturday():
    d = compute_deadlines(received(2026, 9, 30), Policy(), 0, CAL)
    assert d.accept_due_date == D(2026, 10, 8)
    assert d.due_date == D(2026, 10, 20)


def test_case_received_on_a_holiday_starts_counting_after_the_holiday():
    d = compute_deadlines(received(2026, 10, 3), Policy(), 0, CAL)
    assert d.accept_due_date == D(2026, 10, 8)
    assert d.due_date == D(2026, 10, 20)


def test_case_received_on_an_adjusted_workday_can_fall_due_on_an_adjusted_saturday():
    # Sunday 2026-09-20 is worked (调休); the day of receipt never counts.
    d = compute_deadlines(received(2026, 9, 20), Policy(), 0, CAL)
    assert d.accept_due_date == D(2026, 9, 21)
    assert d.due_date == D(2026, 10, 10)
    assert d.due_at == dt.datetime(2026, 10, 10, 23, 59, 59, tzinfo=PROVINCE_TZ)


def test_receipt_date_is_the_provinces_date_not_utc():
    # 16:30 UTC on 30 September is 00:30 on 1 October in Guizhou: a holiday.
    late = dt.datetime(2026, 9, 30, 16, 30, tzinfo=dt.UTC)
    assert compute_deadlines(late, Policy(), 0, CAL).due_date == D(2026, 10, 20)
    early = dt.datetime(2026, 9, 30, 15, 30, tzinfo=dt.UTC)  # 23:30 local on the 30th
    assert compute_deadlines(early, Policy(), 0, CAL).accept_due_date == D(2026, 10, 8)


def test_deadline_in_an_unpublished_year_is_provisional_and_counts_weekdays():
    d = compute_deadlines(received(2026, 12, 24), Policy(), 0, CAL)
    # 12-25, 28, 29, 30, 31, then 2027's weekdays: 01-01 (unknown yet), 04, 05, 06, 07.
    assert d.due_date == D(2027, 1, 7)
    assert d.provisional
    assert not compute_deadlines(received(2026, 12, 1), Policy(), 0, CAL).provisional


def test_admin_year_makes_the_deadline_firm_and_counts_its_holidays():
    cal = WorkCalendar({2027: YearOverride(2027, frozenset({D(2027, 1, 1)}), frozenset())})
    d = compute_deadlines(received(2026, 12, 24), Policy(), 0, cal)
    assert d.due_date == D(2027, 1, 8)
    assert not d.provisional
    assert cal.source(2027) == "admin"


def test_adjusted_weekend_workday_set_by_admin_counts():
    cal = WorkCalendar({2027: YearOverride(2027, frozenset(), frozenset({D(2027, 1, 9)}))})
    assert cal.is_workday(D(2027, 1, 9))
    assert not cal.is_workday(D(2027, 1, 10))


def test_extension_moves_due_date_by_working_days():
    base = compute_deadlines(received(2026, 11, 2), Policy(), 0, CAL)
    longer = compute_deadlines(received(2026, 11, 2), Policy(), 3, CAL)
    assert base.due_date == D(2026, 11, 16)
    assert longer.due_date == D(2026, 11, 19)
    assert longer.accept_due_date == base.accept_due_date


def test_category_policy_overrides_line_numbers():
    policy = Policy(1, 10, 2).overlaid(None, 5, None)
    assert policy == Policy(1, 5, 2)
    assert compute_deadlines(received(2026, 11, 2), policy, 0, CAL).due_date == D(2026, 11, 9)


def test_working_days_between_skips_the_national_day_week():
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4


def test_year_days_list_weekday_holidays_and_weekend_workdays():
    holidays, workdays = CAL.year_days(2026)
    assert D(2026, 10, 1) in holidays and D(2026, 10, 10) in workdays
    assert D(2026, 10, 11) not in holidays  # an ordinary Sunday is not listed
    assert CAL.year_days(2031) == ([], [])
