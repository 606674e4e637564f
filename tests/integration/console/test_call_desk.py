"""A Twilio call the operator answered, filed from the console (/console/calls/<CallSid>): the
form opens with the line and the caller's number, the recording plays from our own site, and
filing uses the call service of `POST /api/v1/calls/<CallSid>/case`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hotline.domain import phones
from hotline.extensions import db
from hotline.models import Call, Case
from tests.fakeservers.twilio import FakeTwilio
from tests.integration.phone.conftest import (  # noqa: F401  (fixtures)
    ACCOUNT_SID,
    AUTH_TOKEN,
    CALLER,
    ZHITONGCHE,
    call_params,
    phone_app,
    twilio,
)

from .conftest import csrf_of

CALL = "CA" + "7" * 32
OPERATOR_LEG = "CA" + "8" * 32
RECORDING = "RE" + "5" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}"
ARREARS = "我公司是一家民营建筑企业，贵阳市某区住建局拖欠工程款三百余万元两年未付，请帮助协调。"


@pytest.fixture
def answered(twilio):  # noqa: F811
    """A call to 省长直通车, taken off the queue by an operator, its conversation recorded."""
    twilio.twiml("/voice", call_params(CALL, to=ZHITONGCHE))
    twilio.twiml("/connect", call_params(CALL, to=ZHITONGCHE, QueueTime="6",
                                         DequeingCallSid=OPERATOR_LEG))
    twilio.post("/channels/twilio/recording?kind=conversation",
                call_params(OPERATOR_LEG, to=ZHITONGCHE, RecordingSid=RECORDING,
                            RecordingUrl=RECORDING_URL, RecordingDuration="95",
                            RecordingStatus="completed"))
    return CALL


def test_the_call_opens_the_form_with_line_caller_and_recording(answered, console_as):
    html = console_as("operator").get(f"/console/calls/{answered}").get_data(as_text=True)
    # The caller as staff read a number (Twilio's +8613985012345 is 13985012345).
    assert 'id="call-info"' in html and phones.display(CALLER) == "13985012345"
    assert "来电 <strong class=\"num\">13985012345</strong>" in html
    assert '<input type="hidden" name="line" value="zhitongche">' in html
    assert 'autocomplete="off" value="13985012345"' in html  # the caller's number, to confirm
    assert f'src="/console/calls/{answered}/recording"' in html
    assert 'id="enterprise-field" data-lines="zhitongche">' in html  # 直通车 asks for it


def test_filing_the_call_makes_its_case_through_the_call_service(answered, console_as):
    client = console_as("operator")
    html = client.get(f"/console/calls/{answered}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    data = {"csrf_token": csrf_of(html), "key": key, "content": ARREARS,
            "phone": "13985012345", "name": "王建国", "enterprise": "贵州黔兴建筑有限公司",
            "category": "situation", "department": "gov-520100",
            # a forged line changes nothing: the call came in on 直通车
            "line": "fupin"}
    resp = client.post(f"/console/calls/{answered}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    case = db.session.scalar(select(Case))
    call = db.session.scalar(select(Call).where(Call.call_sid == answered))
    assert call.case_id == case.id and call.logged_by == "坐席小王"
    assert (case.line.code, case.channel, case.citizen_enterprise) == (
        "zhitongche", "phone", "贵州黔兴建筑有限公司")
    assert (case.status, case.department_code) == ("dispatched", "gov-520100")
    assert [a.media_id for a in case.attachments] == [RECORDING]
    assert [e.action for e in case.events][:3] == ["create", "dispatch", "call"]
    assert case.received_at == call.started_at  # deadlines count from the call
    assert case.number in client.get(resp.headers["Location"]).get_data(as_text=True)
    # the same form again (a double submit) is the same case; the page now leads to it
    again = client.post(f"/console/calls/{answered}", data=data)
    assert again.headers["Location"] == resp.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    opened = client.get(f"/console/calls/{answered}")
    assert opened.headers["Location"].endswith(f"/console/cases/{case.number}")


def test_a_call_answered_on_the_spot_is_an_answered_case(answered, console_as):
    client = console_as("operator")
    html = client.get(f"/console/calls/{answered}").get_data(as_text=True)
    resp = client.post(f"/console/calls/{answered}", data={
        "csrf_token": csrf_of(html), "content": "咨询民营企业贷款贴息政策。",
        "answer": "贴息申请向所在地工信部门提出，材料清单见省工信厅网站。"})
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.status, case.kind) == ("answered", "instant")
    assert [e.action for e in case.events][-2:] == ["call", "answer"]


def test_a_call_the_form_gets_wrong_files_nothing(answered, console_as):
    client = console_as("operator")
    html = client.get(f"/console/calls/{answered}").get_data(as_text=True)
    resp = client.post(f"/console/calls/{answered}", data={"csrf_token": csrf_of(html),
                                                           "content": ""})
    assert resp.status_code == 400 and "来电内容" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Call.case_id)) is None


def test_an_unknown_call_is_not_found_and_a_clerk_has_no_call_desk(answered, console_as):
    assert console_as("operator").get("/console/calls/CA404").status_code == 404
    assert console_as("handler").get(f"/console/calls/{answered}").status_code == 403
    assert console_as("handler").get(f"/console/calls/{answered}/recording").status_code == 403


def test_the_recording_plays_from_our_site_with_twilios_credentials(answered, console_as,
                                                                   phone_app):  # noqa: F811
    audio = b"RIFF" + bytes(range(256)) * 8
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        assert fake.add_recording(RECORDING, audio) == RECORDING_URL
        phone_app.config["TWILIO_API_BASE"] = fake.url
        resp = console_as("operator").get(f"/console/calls/{answered}/recording")
        assert resp.status_code == 200
        assert resp.mimetype.startswith("audio/") and resp.data == audio
        assert fake.requests_to(f"Recordings/{RECORDING}.wav", "GET")
        fake.fail_next(status=500)
        failed = console_as("operator").get(f"/console/calls/{answered}/recording")
        assert failed.status_code == 502 and "录音" in failed.get_data(as_text=True)
