"""Pure arithmetic of the reports: shares that add up, rates, percentiles, periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hotline.domain.errors import ValidationFailed
from hotline.reports import figures
from hotline.reports.periods import last_complete, parse_period


def total(values: list[float]) -> Decimal:
    return sum((Decimal(str(v)) for v in values), Decimal(0))


def test_published_zhitongche_breakdown_rounds_to_the_published_percentages():
    shares = figures.shares([3452, 1281, 42, 14])
    assert shares == [72.08, 26.75, 0.88, 0.29]
    assert total(shares) == Decimal("100.00")


@pytest.mark.parametrize("counts", [[1, 1, 1], [2, 2, 2, 1], [1] * 7, [999, 1], [5, 0, 3],
                                    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [33, 33, 34]])
def test_any_breakdown_sums_to_exactly_one_hundred(counts: list[int]):
    shares = figures.shares(counts)
    assert total(shares) == Decimal("100.00")
    exact = [Decimal(c) * 100 / sum(counts) for c in counts]
    assert all(abs(Decimal(str(s)) - e) < Decimal("0.01") for s, e in zip(shares, exact))


def test_three_equal_thirds_give_the_extra_hundredth_to_the_first():
    assert figures.shares([1, 1, 1]) == [33.34, 33.33, 33.33]


def test_an_empty_breakdown_has_no_percentages_to_share():
    assert figures.shares([0, 0]) == [0.0, 0.0]
    assert figures.shares([]) == []


def test_a_rate_of_nothing_is_null_not_zero():
    assert figures.rate(0, 0) == {"value": None, "numerator": 0, "denominator": 0}
    assert figures.rate(2, 3)["value"] == 66.67
    assert figures.rate(1, 8)["value"] == 12.5  # 12.5 exactly, rounded half up: no float drift


def test_ninetieth_percentile_is_a_value_that_occurred():
    # nine replies within 3 working days, one after 12
    values = [(3, 9), (12, 1)]
    assert figures.weighted_percentile(values, 90) == 3
    assert figures.weighted_percentile([(3, 8), (12, 2)], 90) == 12
    assert figures.weighted_mean(values) == 3.9
    assert figures.weighted_percentile([], 90) is None


@pytest.mark.parametrize(("label", "kind", "start", "end", "title"), [
    ("2026-10", "month", "2026-10-01", "2026-10-31", "2026年10月"),
    ("2026-W44", "week", "2026-10-26", "2026-11-01", "2026年第44周（10月26日—11月1日）"),
    ("2026-Q4", "quarter", "2026-10-01", "2026-12-31", "2026年第四季度"),
    ("2024-02", "month", "2024-02-01", "2024-02-29", "2024年2月"),
    ("2026", "year", "2026-01-01", "2026-12-31", "2026年"),
    ("2026-10-01..2026-10-15", "range", "2026-10-01", "2026-10-15",
     "2026年10月1日至2026年10月15日"),
])
def test_period_labels_name_their_days(label, kind, start, end, title):
    period = parse_period(label)
    assert (period.kind, period.start.isoformat(), period.end.isoformat()) == (kind, start, end)
    assert period.title == title


def test_a_period_ends_at_local_midnight():
    october = parse_period("2026-10")
    last_second = dt.datetime(2026, 10, 31, 15, 59, 59, 999999, tzinfo=dt.UTC)  # 23:59:59 +08
    assert october.contains(last_second)
    assert not october.contains(last_second + dt.timedelta(microseconds=1))
    assert october.start_at == dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC)


@pytest.mark.parametrize(("label", "previous"), [
    ("2026-10", "2026-09"), ("2026-01", "2025-12"), ("2026-W01", "2025-W52"),
    ("2026-Q1", "2025-Q4"), ("2026-10-11..2026-10-20", "2026-10-01..2026-10-10"),
])
def test_previous_period_is_the_one_just_before(label, previous):
    assert parse_period(label).previous().label == previous


@pytest.mark.parametrize("label", ["2026-13", "2026-W54", "2026-Q5", "October", "",
                                   "2026-10-20..2026-10-01"])
def test_a_bad_period_label_is_refused_with_the_forms_that_work(label):
    with pytest.raises(ValidationFailed) as info:
        parse_period(label)
    assert info.value.fields


def test_the_bulletin_due_is_the_last_period_that_has_ended():
    monday = dt.date(2026, 11, 2)
    assert last_complete("week", monday).label == "2026-W44"
    assert last_complete("week", dt.date(2026, 11, 1)).label == "2026-W43"  # Sunday: W44 runs
    assert last_complete("month", monday).label == "2026-10"
    assert last_complete("quarter", monday).label == "2026-Q3"
    assert last_complete("quarter", dt.date(2027, 1, 1)).label == "2026-Q4"


def test_chart_labels_use_short_chinese_line_names():
    from hotline.reports.charts import short_line_name

    assert short_line_name("服务民营企业省长直通车") == "省长直通车"
    assert short_line_name("省长信箱 · 群众直通交流台") == "省长信箱"
    assert short_line_name("扶贫专线") == "扶贫专线"
