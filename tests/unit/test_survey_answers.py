"""Reading a citizen's survey answer, whatever channel it came by."""

from __future__ import annotations

import pytest

from hotline.surveys import parse_rating


@pytest.mark.parametrize("text,expected", [
    ("1", ("satisfied", None)),
    ("２", ("basically_satisfied", None)),
    ("3 工资还是没有发", ("unsatisfied", "工资还是没有发")),
    ("满意", ("satisfied", None)),
    ("基本满意，办得有点慢", ("basically_satisfied", "办得有点慢")),
    ("不满意！根本没人来看过", ("unsatisfied", "根本没人来看过")),
    ("非常满意", ("satisfied", None)),
])
def test_survey_answers_are_read_with_their_comment(text, expected):
    assert parse_rating(text) == expected


@pytest.mark.parametrize("text", ["4", "12", "满意度调查是什么", "我要反映问题", "", "123号"])
def test_other_text_is_not_a_survey_answer(text):
    assert parse_rating(text) is None
