"""Case numbers as citizens type them back: one reading for the web form, WeChat and SMS."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.domain import case_numbers


@pytest.mark.parametrize("typed", [
    "FP20261207-0001", "fp20261207-0001", " FP 20261207 0001 ", "ＦＰ２０２６１２０７－０００１",
    "FP20261207—0001", "FP202612070001", "fp20261207_0001",
])
def test_every_way_a_citizen_types_a_number_reads_as_the_number(typed):
    assert case_numbers.canonical(typed) == "FP20261207-0001"


@pytest.mark.parametrize("typed", ["", "FP2026127-0001", "F20261207-0001", "FPX20261207-0001",
                                   "FP20261207-001", "FP20261207-0001234", "我要查FP20261207-0001"])
def test_what_is_not_a_number_reads_as_none(typed):
    assert case_numbers.canonical(typed) is None


def test_the_day_past_9999_cases_still_makes_readable_numbers():
    day = dt.date(2026, 12, 7)
    assert case_numbers.make("ZT", day, 7) == "ZT20261207-0007"
    big = case_numbers.make("ZT", day, 12345)
    assert big == "ZT20261207-12345" and case_numbers.NUMBER.match(big)
    assert case_numbers.canonical(big.lower()) == big
    assert case_numbers.spaced(big) == "ZT 2026 1207 - 12345"
