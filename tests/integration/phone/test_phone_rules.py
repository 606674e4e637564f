"""The phone channel's plain rules, without a server: line hours, phone numbers, case numbers in
a text message, and the TwiML of the queue."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from channels.phone import hours, twiml
from channels.phone.sms import parse_case_number
from hotline.domain import phones
from hotline.models.calls import callable_number

SH = ZoneInfo("Asia/Shanghai")


def at(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 25, h, m, tzinfo=SH)


@pytest.mark.parametrize("spec, when, workday, expected", [
    ("00:00-24:00", at(3), False, True),  # 扶贫专线: every hour of every day
    ("09:00-17:00", at(9), True, True),
    ("09:00-17:00", at(8, 59), True, False),
    ("09:00-17:00", at(17), True, False),
    ("09:00-17:00", at(10), False, False),  # a rest day
    ("20:00-08:00", at(23), True, True),  # a night line runs over midnight
    ("20:00-08:00", at(7, 59), True, True),
    ("20:00-08:00", at(12), True, False),
    ("nonsense", at(3), False, True),  # a bad setting must not shut callers out
])
def test_line_hours(spec, when, workday, expected):
    assert hours.is_open(spec, when, workday=workday) is expected


def test_rest_days_only_close_office_hours_lines_when_configured():
    assert hours.is_open("09:00-17:00", at(10), workday=False, workdays_only=False)
    assert hours.describe("09:00-17:00") == "9:00至17:00"


@pytest.mark.parametrize("a, b, same", [
    ("+8613985012345", "13985012345", True),
    ("8613985012345", "+86 139-8501-2345", True),
    ("0851-86833668", "+8685186833668", True),
    ("+8613985012345", "+8613985012346", False),
    (None, "", False),
])
def test_one_phone_under_its_spellings(a, b, same):
    assert phones.same(a, b) is same


@pytest.mark.parametrize("raw, expected", [
    ("+8613985012345", "+8613985012345"),
    ("+266696687", None),  # Twilio's "anonymous"
    ("+7378742833", None),  # "restricted"
    ("client:op1", None),
    ("", None),
])
def test_who_can_be_called_back(raw, expected):
    assert callable_number(raw) == expected


@pytest.mark.parametrize("text, number", [
    ("FP20261123-0001", "FP20261123-0001"),
    ("fp202611230001", "FP20261123-0001"),
    ("查询 ZT20261020-0042", "ZT20261020-0042"),
    ("工单号：FP20261123－0001。", "FP20261123-0001"),
    ("FP20261123-0001 我的事怎么还没办", None),  # a complaint that quotes a number is a message
    ("12345", None),
])
def test_case_number_in_a_text_message(text, number):
    assert parse_case_number(text) == number


def test_case_number_is_read_out_one_character_at_a_time():
    assert twiml.spell("FP20261123-0001") == "F P 2 0 2 6 1 1 2 3 0 0 0 1"


def test_greeting_goes_straight_to_the_queue_without_a_menu():
    root = ET.fromstring(str(twiml.greeting("扶贫专线", queue="hotline-fupin", wait_url="/w",
                                            action_url="/a")))
    assert [el.tag for el in root] == ["Say", "Enqueue"]
    assert root.find("Gather") is None


def test_phone_urls_command_lists_what_to_enter_in_twilio_for_each_line(app, _migrated):
    from click.testing import CliRunner

    from channels.phone.cli import phone_urls

    result = CliRunner().invoke(phone_urls, env={
        "DATABASE_URL": _migrated["DATABASE_URL"], "HOTLINE_INSTANCE_PATH":
        _migrated["INSTANCE_PATH"], "PUBLIC_BASE_URL": "https://12345.guizhou.gov.cn",
        "TWILIO_AUTH_TOKEN": "set", "SECRET_KEY": "x"})
    assert result.exit_code == 0, result.output
    assert "扶贫专线 +8685186833668" in result.output
    assert "https://12345.guizhou.gov.cn/channels/twilio/voice" in result.output
    assert "dequeue?line=zhitongche" in result.output
