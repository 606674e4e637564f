"""How texts are read and replies written: plain functions, no database."""

from __future__ import annotations

import pytest

from channels.wechat.intents import classify, too_short_for_a_case
from channels.wechat.menu import build_menu
from channels.wechat.texts import MAX_REPLY_BYTES, fit, not_found


@pytest.mark.parametrize("text,number", [
    ("FP20261123-0001", "FP20261123-0001"),
    ("fp20261123-0001", "FP20261123-0001"),
    ("查询 ZT20261123－0042", "ZT20261123-0042"),
    ("查询：BD202611230007。", "BD20261123-0007"),
    ("进度 FP 20261123 0001", "FP20261123-0001"),
])
def test_case_numbers_are_read_however_they_are_typed(text, number):
    intent = classify(text)
    assert (intent.kind, intent.number) == ("query", number)


def test_a_number_inside_a_longer_message_is_not_a_query():
    assert classify("我上周反映的FP20261123-0001到现在没人联系我，很着急").kind == "text"


@pytest.mark.parametrize("text,kind", [
    ("我的", "mine"), ("我的工单", "mine"), ("查询", "query_help"),
    ("绑定 13985012345", "bind"), ("绑定手机号：139 8501 2345", "bind"), ("绑定", "bind_help"),
    ("验证码 123456", "confirm"), ("解绑", "unbind"), ("新诉求", "new"),
    ("1", "survey"), ("不满意，工资还没发", "survey"), ("你好啊", "help"), ("？", "help"),
    ("村里的路坏了", "text"), ("123456", "text"),
])
def test_commands_are_told_from_intake(text, kind):
    assert classify(text).kind == kind


def test_six_digits_are_a_code_only_while_one_is_pending():
    assert classify("654321", code_pending=True).code == "654321"
    assert classify("654321").kind == "text"


def test_survey_answers_keep_the_comment():
    intent = classify("3 钱还没到账")
    assert (intent.rating, intent.comment) == ("unsatisfied", "钱还没到账")


def test_mobile_numbers_are_normalised():
    assert classify("绑定 +86 139-8501-2345").phone == "+8613985012345"
    assert classify("绑定手机 13985012345").phone == "+8613985012345"
    assert classify("绑定 0851-86833668").phone is None  # a landline gets no SMS code


def test_one_character_is_too_short_for_a_case():
    assert too_short_for_a_case("嗯") and too_short_for_a_case("👍。")
    assert not too_short_for_a_case("停水")


def test_replies_fit_wechats_limit_and_cannot_break_the_cdata_around_them():
    long = "答复内容]]><xml>" + "经核实" * 2000
    text = fit(long)
    assert len(text.encode()) <= MAX_REPLY_BYTES and "]]>" not in text
    assert text.endswith("（内容较长，已节选）")
    assert fit("低保\x01已批") == "低保已批"


def test_not_found_says_nothing_about_whose_case_it_is():
    assert not_found("FP20261123-0001") == not_found("FP20261123-0002").replace("0002", "0001")


def test_menu_names_respect_wechats_byte_limits():
    menu = build_menu([("fupin", "扶贫专线"), ("longline", "一条名字非常非常非常非常非常长的线路名称")],
                      "https://12345.guizhou.gov.cn/board")
    for top in menu["button"]:
        assert len(top["name"].encode()) <= 16
        assert len(top["sub_button"]) <= 5
        assert all(len(sub["name"].encode()) <= 60 for sub in top["sub_button"])
    assert menu["button"][2]["sub_button"][-1]["type"] == "view"
