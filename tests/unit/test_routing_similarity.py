"""Duplicate detection: similarity of two messages on segmented words."""

from __future__ import annotations

from routing import similarity

FIRST = "我是纳雍县的，在工地上干了半年，包工头拖欠我们十几个人的工资，一直不给"
AGAIN = "喂，还是纳雍县工地那个事，包工头拖欠我们的工资到现在还没有给"
OTHER = "纳雍县我们村的路灯坏了一个月，晚上黑漆漆的"


def test_the_same_text_is_fully_similar():
    assert similarity(FIRST, FIRST) == 1.0


def test_a_second_call_about_the_same_matter_is_likely_a_duplicate():
    assert similarity(FIRST, AGAIN) >= 0.5


def test_another_matter_from_the_same_place_is_not():
    assert similarity(FIRST, OTHER) < 0.3


def test_filler_words_do_not_make_messages_alike():
    assert similarity("嗯，那个，就是说，喂", "嗯嗯，那个那个，就是说") == 0.0


def test_similarity_is_symmetric_and_bounded():
    a, b = similarity(FIRST, AGAIN), similarity(AGAIN, FIRST)
    assert a == b
    assert 0.0 <= a <= 1.0
    assert similarity("", FIRST) == 0.0
