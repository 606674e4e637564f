"""A call to a line, followed from ring to case through Twilio's signed webhooks: greeting and
queue, the operator taking it, no answer → recorded message → case, hang-up → call-back task."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Attachment, Call, CallbackTask, Case, CaseEvent, OutboxMessage

from .conftest import CALLER, FUPIN, PUBLIC_BASE, ZHITONGCHE, call_params, local, says, spoken

CALL = "CA" + "1" * 32
OPERATOR_LEG = "CA" + "9" * 32
RECORDING = "RE" + "2" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/{RECORDING}"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def the_call(sid: str = CALL) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.call_sid == sid))


# --- the greeting and the queue ---------------------------------------------------------------

def test_call_to_fupin_hears_mandarin_greeting_naming_the_line_then_goes_straight_to_queue(
        twilio):
    root = twilio.twiml("/voice", call_params(CALL, CallStatus="ringing"))

    assert [el.tag for el in root] == ["Say", "Enqueue"]  # no menu before a person
    greeting = root.find("Say")
    assert greeting.get("voice") == "Polly.Zhiyu" and greeting.get("language") == "cmn-CN"
    assert "扶贫专线" in greeting.text and "话务员" in greeting.text
    enqueue = root.find("Enqueue")
    assert enqueue.text == "hotline-fupin"
    assert enqueue.get("waitUrl") == f"{PUBLIC_BASE}/channels/twilio/wait"
    assert enqueue.get("action") == f"{PUBLIC_BASE}/channels/twilio/queue-result"
    call = the_call()
    assert (call.line.code, call.from_number, call.to_number) == ("fupin", CALLER, FUPIN)
    assert call.stage == "greeting" and call.outcome is None and not call.after_hours


def test_zhitongche_on_a_weekend_takes_a_message_instead_of_queueing(twilio, monkeypatch):
    monkeypatch.setattr("channels.phone.voice.utcnow", lambda: local(2026, 11, 28, 10))  # Sat

    root = twilio.twiml("/voice", call_params(CALL, to=ZHITONGCHE))

    assert root.find("Enqueue") is None
    text = spoken(root)
    assert "服务民营企业省长直通车" in text and "非服务时间" in text
    assert "工作日9:00至17:00" in text
    record = root.find("Record")
    assert record.get("action") == f"{PUBLIC_BASE}/channels/twilio/message"
    assert record.get("recordingStatusCallback") == \
        f"{PUBLIC_BASE}/channels/twilio/recording?kind=message"
    assert record.get("finishOnKey") == "#" and int(record.get("maxLength")) == 180
    assert root.find("Redirect").text == f"{PUBLIC_BASE}/channels/twilio/no-message"
    assert the_call().after_hours and the_call().stage == "recording"


@pytest.mark.parametrize("when, open_", [
    (local(2026, 11, 25, 10), True),  # Wednesday morning
    (local(2026, 11, 25, 17, 5), False),  # Wednesday, after five
    (local(2026, 10, 1, 10), False),  # National Day
])
def test_zhitongche_office_hours_decide_between_queue_and_message(twilio, monkeypatch, when,
                                                                  open_):
    monkeypatch.setattr("channels.phone.voice.utcnow", lambda: when)
    root = twilio.twiml("/voice", call_params(CALL, to=ZHITONGCHE))
    assert (root.find("Enqueue") is not None) == open_
    assert (root.find("Record") is not None) == (not open_)


def test_fupin_answers_round_the_clock(twilio, monkeypatch):
    monkeypatch.setattr("channels.phone.voice.utcnow", lambda: local(2026, 10, 1, 3))
    root = twilio.twiml("/voice", call_params(CALL))
    assert root.find("Enqueue").text == "hotline-fupin"


def test_hold_announces_the_place_in_the_queue_and_offers_a_message_later(twilio):
    twilio.twiml("/voice", call_params(CALL))

    early = twilio.twiml("/wait", call_params(CALL, QueuePosition="3", QueueTime="5",
                                              CurrentQueueSize="3", AvgQueueTime="20"))
    gather = early.find("Gather")
    assert gather.get("numDigits") == "1"
    assert "您前面还有2位来电" in spoken(early) and "按1留言" not in spoken(early)
    assert gather.find("Pause") is not None
    call = the_call()
    assert call.stage == "queued" and call.enqueued_at is not None

    later = twilio.twiml("/wait", call_params(CALL, QueuePosition="1", QueueTime="35"))
    assert "您是下一位" in spoken(later) and "请按1留言" in spoken(later)
    assert says(later)[0].get("language") == "cmn-CN"


def test_pressing_1_while_waiting_leaves_the_queue_to_record(twilio):
    root = twilio.twiml("/wait-key", call_params(CALL, Digits="1"))
    assert [el.tag for el in root] == ["Leave"]
    other = twilio.twiml("/wait-key", call_params(CALL, Digits="5"))
    assert other.find("Redirect").text == f"{PUBLIC_BASE}/channels/twilio/wait"


def test_hold_music_plays_when_configured(twilio, phone_app):
    phone_app.config["PHONE_HOLD_MUSIC_URL"] = "https://12345.guizhou.gov.cn/static/hold.mp3"
    root = twilio.twiml("/wait", call_params(CALL, QueuePosition="2", QueueTime="3"))
    assert root.find("Gather/Play").text == "https://12345.guizhou.gov.cn/static/hold.mp3"


# --- ring to case: nobody answers, the caller leaves a message ---------------------------------

def test_no_operator_in_time_then_recorded_message_becomes_a_case_with_the_recording(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/wait", call_params(CALL, QueuePosition="1", QueueTime="10"))
    assert [el.tag for el in twilio.twiml("/wait", call_params(CALL, QueueTime="95"))] == \
        ["Leave"]

    busy = twilio.twiml("/queue-result", call_params(CALL, QueueResult="leave", QueueTime="95",
                                                     QueueSid="QU1"))
    assert "话务员暂时都在忙" in spoken(busy)
    assert busy.find("Record") is not None
    assert the_call().stage == "recording" and the_call().queue_seconds == 95

    message = call_params(CALL, RecordingSid=RECORDING, RecordingUrl=RECORDING_URL,
                          RecordingDuration="42", Digits="#")
    done = twilio.twiml("/message", message)

    case = db.session.scalar(select(Case))
    assert case.number.startswith("FP")
    assert "工单号" in spoken(done) and " ".join(case.number.replace("-", "")) in spoken(done)
    assert done[-1].tag == "Hangup"
    assert (case.line.code, case.channel, case.citizen_phone) == ("fupin", "phone", CALLER)
    assert "录音 42 秒" in case.content and "话务员忙时来电" in case.content
    assert case.received_at == the_call().started_at
    recording = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    assert (recording.kind, recording.url, recording.media_id) == \
        ("recording", RECORDING_URL, RECORDING)
    task = db.session.scalar(select(CallbackTask))
    assert (task.kind, task.case_id, task.phone, task.status) == \
        ("recording", case.id, CALLER, "open")
    ack = db.session.scalar(select(OutboxMessage))
    assert (ack.channel, ack.purpose, ack.recipient) == ("sms", "ack", CALLER)
    assert case.number in ack.text and ack.payload["from_number"] == FUPIN
    actions = [e.action for e in case.events]
    assert actions[:1] == ["create"] and "call" in actions
    call = the_call()
    assert (call.outcome, call.case_id, call.recording_sid) == ("message", case.id, RECORDING)

    # Twilio's recording status callback and a repeated action change nothing.
    resp = twilio.post("/channels/twilio/recording?kind=message",
                       {**message, "RecordingStatus": "completed"})
    assert resp.status_code == 200
    again = twilio.twiml("/message", message)
    assert " ".join(case.number.replace("-", "")) in spoken(again)
    assert (count(Case), count(Attachment), count(CallbackTask), count(OutboxMessage)) == \
        (1, 1, 1, 1)


def test_recording_callback_arriving_first_makes_the_case_and_the_action_reuses_it(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/queue-result", call_params(CALL, QueueResult="leave", QueueTime="91"))
    message = call_params(CALL, RecordingSid=RECORDING, RecordingUrl=RECORDING_URL,
                          RecordingDuration="17", RecordingStatus="completed")
    assert twilio.post("/channels/twilio/recording?kind=message", message).status_code == 200
    number = db.session.scalar(select(Case.number))
    done = twilio.twiml("/message", message)
    assert " ".join(number.replace("-", "")) in spoken(done)
    assert count(Case) == 1


def test_after_hours_message_on_zhitongche_is_a_case_of_that_line(twilio, monkeypatch):
    monkeypatch.setattr("channels.phone.voice.utcnow", lambda: local(2026, 11, 25, 21))
    twilio.twiml("/voice", call_params(CALL, to=ZHITONGCHE))
    twilio.twiml("/message", call_params(CALL, to=ZHITONGCHE, RecordingSid=RECORDING,
                                         RecordingUrl=RECORDING_URL, RecordingDuration="30"))
    case = db.session.scalar(select(Case))
    assert case.line.code == "zhitongche" and case.number.startswith("ZT")
    assert "非服务时间来电" in case.content


def test_asked_for_a_message_but_saying_nothing_makes_a_call_back_task_not_a_case(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/queue-result", call_params(CALL, QueueResult="leave", QueueTime="90"))

    root = twilio.twiml("/no-message", call_params(CALL))

    assert "回拨" in spoken(root) and root[-1].tag == "Hangup"
    assert count(Case) == 0
    task = db.session.scalar(select(CallbackTask))
    assert (task.kind, task.phone, task.line_code) == ("missed_call", CALLER, "fupin")
    assert the_call().outcome == "no_message"
    # The recording callback saying "absent" and the call's end add nothing.
    twilio.post("/channels/twilio/recording?kind=message",
                call_params(CALL, RecordingStatus="absent", RecordingSid=RECORDING))
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="120"))
    assert count(CallbackTask) == 1 and count(Case) == 0


def test_a_late_recording_cancels_the_call_back_task_the_hang_up_made(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/queue-result", call_params(CALL, QueueResult="leave", QueueTime="90"))
    # The call's end is reported before Twilio posts the recording.
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="140"))
    assert db.session.scalar(select(CallbackTask.status)) == "open"

    twilio.twiml("/message", call_params(CALL, RecordingSid=RECORDING, RecordingUrl=RECORDING_URL,
                                         RecordingDuration="25"))

    tasks = {t.kind: t for t in db.session.scalars(select(CallbackTask))}
    assert tasks["missed_call"].status == "cancelled"
    assert tasks["recording"].status == "open"
    assert the_call().outcome == "message"


# --- ring to case: an operator answers and logs the call ---------------------------------------

def test_operator_takes_the_call_off_the_queue_and_logs_it_with_its_recording(twilio, api,
                                                                              tokens):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/wait", call_params(CALL, QueuePosition="1", QueueTime="2"))

    operator = twilio.twiml("/channels/twilio/dequeue?line=fupin",
                            call_params(OPERATOR_LEG, caller="client:op1", to=FUPIN))
    dial = operator.find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == \
        f"{PUBLIC_BASE}/channels/twilio/recording?kind=conversation"
    queue = dial.find("Queue")
    assert queue.text == "hotline-fupin"
    assert queue.get("url") == f"{PUBLIC_BASE}/channels/twilio/connect"

    connect = twilio.twiml("/connect", call_params(CALL, QueueTime="8", QueueSid="QU1",
                                                   DequeingCallSid=OPERATOR_LEG))
    assert "录音" in spoken(connect)
    call = the_call()
    assert (call.outcome, call.stage, call.queue_seconds) == ("answered", "connected", 8)
    assert call.operator_call_sid == OPERATOR_LEG

    twilio.post("/channels/twilio/recording?kind=conversation",
                call_params(OPERATOR_LEG, RecordingSid=RECORDING, RecordingUrl=RECORDING_URL,
                            RecordingDuration="180", RecordingStatus="completed"))
    twilio.post("/queue-result", call_params(CALL, QueueResult="bridged", QueueTime="8"))
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="215"))
    call = the_call()
    assert (call.stage, call.duration_seconds, call.recording_sid) == ("ended", 215, RECORDING)
    assert count(CallbackTask) == 0  # answered: nobody to call back

    resp = api.post(f"/calls/{CALL}/case", tokens.operator, {
        "category": "hardship",
        "content": "来电人反映：威宁县某村低保申请提交三个月仍无答复，家中老人重病，请求帮助。",
        "citizen": {"name": "李秀英"},
        "region": "520526",
    })
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    case = body["case"]
    assert (case["line"], case["channel"], case["citizen"]["phone"]) == ("fupin", "phone", CALLER)
    assert case["citizen"]["name"] == "李秀英"
    assert case["received_at"] == body["call"]["started_at"]
    call_event = next(e for e in case["events"] if e["action"] == "call")
    assert call_event["actor"] == "op1"
    assert call_event["data"]["call_sid"] == CALL and call_event["data"]["queue_seconds"] == 8
    assert call_event["data"]["duration_seconds"] == 215
    assert [a["media_id"] for a in case["attachments"]] == [RECORDING]
    assert body["call"]["case"] == case["number"] and body["call"]["logged_by"] == "op1"
    assert body["call"]["answered_within_target"] is True

    # The same call cannot become a second case; naming its own case again is harmless.
    again = api.post(f"/calls/{CALL}/case", tokens.operator, {"content": "重复登记"})
    assert again.status_code == 409
    assert again.get_json()["error"]["fields"]["case"] == [case["number"]]
    same = api.post(f"/calls/{CALL}/case", tokens.operator, {"case": case["number"]})
    assert same.status_code == 200
    assert count(Case) == 1
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.action == "call")) == 1


def test_recording_of_a_logged_call_arriving_later_joins_its_case(twilio, api, tokens):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/connect", call_params(CALL, QueueTime="4", DequeingCallSid=OPERATOR_LEG))
    number = api.post(f"/calls/{CALL}/case", tokens.operator,
                      {"content": "咨询易地扶贫搬迁后子女就近入学的政策。"}).get_json()["case"]["number"]

    twilio.post("/channels/twilio/recording?kind=conversation",
                call_params(OPERATOR_LEG, RecordingSid=RECORDING, RecordingUrl=RECORDING_URL,
                            RecordingDuration="95", RecordingStatus="completed"))

    case = api.get(f"/cases/{number}", tokens.operator).get_json()
    assert [a["url"] for a in case["attachments"]] == [RECORDING_URL]


# --- hang-ups: missed calls to ring back (回拨) -------------------------------------------------

def test_hang_up_in_the_queue_becomes_a_missed_call_task_once(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/wait", call_params(CALL, QueuePosition="4", QueueTime="3"))

    root = twilio.twiml("/queue-result", call_params(CALL, QueueResult="hangup", QueueTime="40"))

    assert len(root) == 0
    task = db.session.scalar(select(CallbackTask))
    assert (task.kind, task.phone, task.line_code, task.status) == \
        ("missed_call", CALLER, "fupin", "open")
    assert "排队等待时挂机" in task.reason
    call = the_call()
    assert (call.outcome, call.queue_seconds) == ("abandoned", 40)
    # Replays and the status callback add nothing.
    twilio.post("/queue-result", call_params(CALL, QueueResult="hangup", QueueTime="40"))
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="47"))
    assert count(CallbackTask) == 1 and count(Case) == 0
    assert the_call().duration_seconds == 47


def test_status_callback_first_then_queue_hang_up_still_one_task(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/wait", call_params(CALL, QueuePosition="1", QueueTime="1"))
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="30"))
    twilio.post("/queue-result", call_params(CALL, QueueResult="hangup", QueueTime="22"))
    assert count(CallbackTask) == 1
    assert the_call().queue_seconds == 22


def test_caller_who_keeps_missing_has_one_task_that_counts_the_calls(twilio):
    for n, sid in enumerate(("CA" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32)):
        twilio.twiml("/voice", call_params(sid))
        twilio.twiml("/queue-result", call_params(sid, QueueResult="hangup", QueueTime=str(30 + n)))
    task = db.session.scalar(select(CallbackTask))
    assert count(CallbackTask) == 1
    assert "未接来电 3 次" in task.reason


def test_getting_through_later_cancels_the_open_missed_call_task(twilio):
    twilio.twiml("/voice", call_params("CA" + "a" * 32))
    twilio.twiml("/queue-result", call_params("CA" + "a" * 32, QueueResult="hangup",
                                              QueueTime="50"))
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/connect", call_params(CALL, QueueTime="6", DequeingCallSid=OPERATOR_LEG))
    task = db.session.scalar(select(CallbackTask))
    assert task.status == "cancelled" and "已由话务员接听" in task.note


def test_hang_up_during_the_greeting_counts_as_abandoned(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.post("/status", call_params(CALL, CallStatus="completed", CallDuration="3"))
    assert the_call().outcome == "abandoned"
    assert "问候语播放时挂机" in db.session.scalar(select(CallbackTask.reason))


def test_withheld_number_hanging_up_leaves_no_task_nobody_could_ring(twilio):
    twilio.twiml("/voice", call_params(CALL, caller="+266696687"))
    twilio.twiml("/queue-result", call_params(CALL, caller="+266696687", QueueResult="hangup",
                                              QueueTime="12"))
    assert the_call().outcome == "abandoned"
    assert count(CallbackTask) == 0


def test_callbacks_for_a_call_whose_first_webhook_was_lost_still_record_it(twilio):
    twilio.twiml("/queue-result", call_params(CALL, QueueResult="hangup", QueueTime="33"))
    call = the_call()
    assert (call.line.code, call.outcome) == ("fupin", "abandoned")
    assert count(CallbackTask) == 1


# --- refusals ----------------------------------------------------------------------------------

def test_unknown_called_number_is_told_politely_and_nothing_is_stored(twilio, caplog):
    with caplog.at_level(logging.WARNING, logger="channels.phone.voice"):
        root = twilio.twiml("/voice", call_params(CALL, to="+8685100000000"))
    assert [el.tag for el in root] == ["Say", "Hangup"]
    assert "暂未开通" in spoken(root) and says(root)[0].get("language") == "cmn-CN"
    assert count(Call) == 0
    assert any("+8685100000000" in r.getMessage() for r in caplog.records)


def test_forged_or_missing_signature_is_refused_and_changes_nothing(twilio):
    params = call_params(CALL)
    forged = twilio.sign("/channels/twilio/voice", params, token="not-the-auth-token")
    assert twilio.post("/voice", params, signature=forged).status_code == 403
    assert twilio.post("/voice", params, signature="").status_code == 403
    # Signed for other parameters (a changed caller) or another URL.
    signed = twilio.sign("/channels/twilio/voice", params)
    tampered = {**params, "From": "+8613800000000"}
    assert twilio.post("/voice", tampered, signature=signed).status_code == 403
    assert twilio.post("/queue-result", {**params, "QueueResult": "hangup"},
                       signature=signed).status_code == 403
    resp = twilio.post("/voice", params, signature=forged)
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert count(Call) == 0 and count(CallbackTask) == 0


def test_query_string_is_part_of_what_twilio_signs(twilio):
    params = call_params(OPERATOR_LEG, caller="client:op1")
    signed_for_fupin = twilio.sign("/channels/twilio/dequeue?line=fupin", params)
    resp = twilio.post("/channels/twilio/dequeue?line=zhitongche", params,
                       signature=signed_for_fupin)
    assert resp.status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(twilio, phone_app):
    phone_app.config["TWILIO_AUTH_TOKEN"] = None
    assert twilio.post("/voice", call_params(CALL)).status_code == 403
    assert count(Call) == 0


def test_signed_but_empty_body_is_a_clear_400(twilio):
    resp = twilio.post("/voice", {})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["fields"] == {"CallSid": ["Missing data for required field."]}
    assert count(Call) == 0


def test_oversized_body_is_refused_with_413_and_nothing_stored(twilio):
    params = call_params(CALL, Padding="x" * (70 * 1024))
    resp = twilio.post("/voice", params)
    assert resp.status_code == 413
    assert count(Call) == 0


def test_over_long_field_is_refused(twilio):
    resp = twilio.post("/voice", call_params("CA" + "1" * 200))
    assert resp.status_code == 400 and count(Call) == 0


def test_repeated_incoming_call_webhook_keeps_one_call(twilio):
    first = twilio.twiml("/voice", call_params(CALL))
    second = twilio.twiml("/voice", call_params(CALL))
    assert [el.tag for el in first] == [el.tag for el in second]
    assert count(Call) == 1


@pytest.mark.parametrize("proxies, status", [(1, 200), (0, 403)])
def test_behind_a_proxy_the_forwarded_public_url_is_what_is_checked(app, _migrated, proxies,
                                                                    status):
    from hotline import create_app

    from .conftest import AUTH_TOKEN, TwilioWebhooks

    behind = create_app({**_migrated, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": None,
                         "TRUSTED_PROXIES": proxies})
    twilio = TwilioWebhooks(behind.test_client(), base="https://12345.guizhou.gov.cn")
    resp = twilio.post("/voice", call_params(CALL), headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "12345.guizhou.gov.cn",
        "X-Forwarded-For": "54.172.60.1"})
    assert resp.status_code == status
    assert count(Call) == (1 if status == 200 else 0)


def test_a_message_intake_refuses_is_kept_on_the_call_for_a_call_back(twilio):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/queue-result", call_params(CALL, QueueResult="leave", QueueTime="90"))
    line = the_call().line
    line.active = False  # the line was closed while the caller was speaking
    db.session.commit()

    root = twilio.twiml("/message", call_params(CALL, RecordingSid=RECORDING,
                                                RecordingUrl=RECORDING_URL,
                                                RecordingDuration="20"))

    assert "留言已收到" in spoken(root)
    assert count(Case) == 0
    call = the_call()
    assert (call.outcome, call.recording_url) == ("message", RECORDING_URL)
    task = db.session.scalar(select(CallbackTask))
    assert task.kind == "recording" and RECORDING_URL in task.reason


def test_a_call_from_a_sip_address_still_reaches_the_queue(twilio):
    sip = "sip:" + "operator.training.room.07" * 3 + "@hotline.sip.twilio.com"
    root = twilio.twiml("/voice", call_params(CALL, caller=sip))
    assert root.find("Enqueue") is not None
    assert the_call().from_number == sip[:32]
