"""Phone numbers, one rule (hotline/domain/phones.py): every spelling of a Chinese mobile or a
Guiyang landline is stored as one E.164 number, compared by one key and shown to staff and
citizens the way it is written in China."""

from __future__ import annotations

import pytest

from hotline.domain import phones


@pytest.mark.parametrize(("typed", "e164"), [
    ("13800138000", "+8613800138000"),
    ("+86 138-0013-8000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("8613800138000", "+8613800138000"),
    ("0086 138 0013 8000", "+8613800138000"),
    ("１３８００１３８０００", "+8613800138000"),  # full-width digits from a Chinese IME
    ("0851-86833668", "+8685186833668"),  # 贵阳 landline with its area code
    ("0851 8683 3668", "+8685186833668"),
    ("85186833668", "+8685186833668"),  # the area code without its trunk zero
    ("+8685186833668", "+8685186833668"),
    ("010-12345678", "+861012345678"),  # 北京: a two-digit area code
    ("+1 415 555 2671", "+14155552671"),
])
def test_every_spelling_of_a_phone_is_stored_as_one_e164_number(typed, e164):
    assert phones.e164(typed) == e164
    assert phones.stored(typed) == e164
    assert phones.same(typed, e164)


@pytest.mark.parametrize("text", ["无", "client:op1", "一三九"])
def test_text_that_is_no_phone_number_is_kept_as_written(text):
    assert phones.e164(text) is None
    assert phones.stored(f" {text} ") == text
    assert phones.stored("  ") is None


@pytest.mark.parametrize(("stored", "shown"), [
    ("+8613800138000", "13800138000"),
    ("+8685186833668", "0851-86833668"),
    ("+8685185551234", "0851-85551234"),
    ("+861012345678", "010-12345678"),
    ("+14155552671", "+1 415-555-2671"),
    ("无", "无"),
    (None, ""),
])
def test_staff_and_citizens_read_the_number_as_it_is_written_in_china(stored, shown):
    assert phones.display(stored) == shown


def test_only_a_chinese_mobile_can_receive_an_sms():
    assert phones.is_mobile("138-0013-8000") and phones.mobile("138 0013 8000") == "+8613800138000"
    assert not phones.is_mobile("0851-86833668") and phones.mobile("0851-86833668") is None
    assert not phones.is_mobile("+1 415 555 2671")
    assert not phones.is_mobile("12345678901")  # no such mobile prefix


def test_the_web_form_takes_a_chinese_mobile_or_a_landline_with_its_area_code():
    assert phones.is_chinese("13985012345") and phones.is_chinese("0851-86833668")
    assert not phones.is_chinese("110") and not phones.is_chinese("12345")
    assert not phones.is_chinese("+1 415 555 2671")


def test_search_key_and_tail_and_mask():
    assert phones.key("+86 139-8501-2345") == phones.key("13985012345") == "13985012345"
    assert phones.key("0851-86833668") == "85186833668"
    assert not phones.same("13985012345", "13985012346") and not phones.same(None, "")
    assert phones.tail("+8613985012345") == "2345"
    assert phones.masked("+8613985012345") == "139****2345"
