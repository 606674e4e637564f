"""Rules of supervision and follow-up that need no database: reminder leads, what the citizen is
told at each step, phone numbers for Twilio, retry backoff, the schedule's entries."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask import Flask

from hotline.domain import phones
from hotline.domain.deadlines import Policy
from hotline.domain.lifecycle import Kind, Status
from hotline.followup import status_text, survey_reminder_text, survey_text
from workers.relay import backoff
from workers.settings import setting
from workers.sweeps import accept_lead

WEINING = "威宁彝族回族苗族自治县人民政府"


def case(**overrides) -> SimpleNamespace:
    fields = {
        "number": "FP20261102-0007", "kind": Kind.HANDLE, "status": Status.DISPATCHED,
        "line": SimpleNamespace(name="扶贫专线", code="fupin"),
        "due_date": dt.date(2026, 11, 16), "reply_text": None, "answer_text": None}
    return SimpleNamespace(**(fields | overrides))


@pytest.mark.parametrize(("policy", "lead"), [
    (Policy(accept_days=1, remind_days=2), 0),  # a one-day signing period: remind on its day
    (Policy(accept_days=3, remind_days=2), 2),
    (Policy(accept_days=3, remind_days=1), 1),
    (Policy(accept_days=5, remind_days=0), 0),
])
def test_signing_reminder_never_comes_before_the_last_day_of_a_short_period(policy, lead):
    assert accept_lead(policy) == lead


def test_dispatch_message_names_the_department_and_the_deadline():
    text = status_text(case(), "dispatch", WEINING)
    assert text == ("【扶贫专线】您反映的事项（工单号FP20261102-0007）已转交威宁彝族回族苗族自治县"
                    "人民政府办理，办理时限至2026年11月16日。可凭工单号查询办理进度。")


def test_closing_message_carries_the_answer_cut_to_sms_length():
    answer = "经核查，您反映的低保问题属实。" * 30
    text = status_text(case(status=Status.CLOSED, reply_text=answer), "close", WEINING)
    assert text.startswith("【扶贫专线】您反映的事项（工单号FP20261102-0007）已办结。答复：经核查")
    assert text.endswith("…") and len(text) < 260


def test_information_only_case_says_it_was_forwarded_for_reading_and_nothing_at_closing():
    inform = case(kind=Kind.INFORM)
    assert "参阅" in status_text(inform, "dispatch", WEINING)
    assert status_text(case(kind=Kind.INFORM, status=Status.CLOSED), "accept", WEINING) is None


@pytest.mark.parametrize("action", ["accept", "return", "extension", "instruct", "review"])
def test_steps_inside_the_hotline_send_the_citizen_nothing(action):
    assert status_text(case(status=Status.ACCEPTED), action, WEINING) is None


def test_survey_texts_offer_the_quick_reply_and_the_link():
    link = "https://rx.guizhou.example/survey/abc"
    for text in (survey_text(case(), link), survey_reminder_text(case(), link)):
        assert "回复1满意，2基本满意，3不满意" in text and link in text


@pytest.mark.parametrize(("given", "e164"), [
    ("13985012345", "+8613985012345"),
    ("139 8501 2345", "+8613985012345"),
    ("8613985012345", "+8613985012345"),
    ("+86 139-8501-2345", "+8613985012345"),
    ("0851-86812345", "+8685186812345"),
    ("0085213985012345", "+85213985012345"),
])
def test_phone_numbers_are_written_as_twilio_needs_them(given, e164):
    assert phones.e164(given) == e164


def test_backoff_grows_and_is_capped(monkeypatch):
    app = Flask(__name__)
    app.config.update(OUTBOX_BACKOFF_SECONDS=10, OUTBOX_BACKOFF_MAX_SECONDS=100)
    monkeypatch.setattr("random.uniform", lambda a, b: 1.0)
    assert [backoff(app, n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 100]


def test_settings_come_from_the_app_then_the_environment_then_the_default(monkeypatch):
    app = Flask(__name__)
    assert setting(app, "POINTS_OVERDUE") == -2
    monkeypatch.setenv("POINTS_OVERDUE", "-3")
    assert setting(app, "POINTS_OVERDUE") == -3
    app.config["POINTS_OVERDUE"] = -4
    assert setting(app, "POINTS_OVERDUE") == -4
