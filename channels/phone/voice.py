"""Voice webhooks: a call to a line, from ring to an operator or a recorded message.

    POST /voice           the call arrives: greeting naming the line, then the line's queue
                          (or, outside the line's hours, straight to leaving a message)
    POST /wait            the queue's hold document: place in the queue, music or a pause;
                          after PHONE_QUEUE_TIMEOUT seconds nobody answered: leave the queue
    POST /wait-key        the caller pressed 1 while waiting: leave a message instead
    POST /queue-result    the queue's action: answered (bridged), hung up (回拨), or left the
                          queue (→ leave a message)
    POST /connect         the caller's side just before an operator is put through
    POST /dequeue?line=   the operator's side (softphone / operator number): take the next caller
    POST /message         <Record>'s action: the message becomes a case
    POST /no-message      after <Record> when nothing was said
    POST /recording?kind= recording status callback (kind=message: the caller's message,
                          kind=conversation: the operator's recorded conversation)
    POST /status          the call's status callback (set on the Twilio number): ended, duration

Every one checks Twilio's signature first; a refused request changes nothing. Those that
write hold the writers' lock on SQLite as webhooks do, ahead of the workers (`writes_first`).
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hotline import services
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.extensions import db
from hotline.models import Call, Line
from hotline.models.calls import Stage, callable_number
from hotline.models.types import utcnow

from . import calls, hours, twiml
from .blueprint import bp, field, number, writes_first
from .security import public_url, twilio_webhook

logger = logging.getLogger(__name__)

#: The queue's results after which the caller is still on the line and may leave a message.
LEFT_QUEUE = frozenset({"leave", "queue-full", "error", "system-error"})
ANSWERED = frozenset({"bridged", "bridging-in-progress"})
# To a caller whose call we do not know (Twilio sent no usable call).
GOODBYE = "感谢您的来电，再见。"


def queue_name(line: Line) -> str:
    return f"hotline-{line.code}"  # Twilio allows 64 characters


def line_is_open(line: Line) -> bool:
    now = utcnow().astimezone(PROVINCE_TZ)
    if hours.is_all_day(line.hours):
        return True
    workdays_only = bool(current_app.config["PHONE_HOURS_WORKDAYS_ONLY"])
    workday = services.work_calendar().is_workday(now.date()) if workdays_only else True
    return hours.is_open(line.hours, now, workday=workday, workdays_only=workdays_only)


def _record_urls() -> dict[str, str]:
    return {"action": public_url("/message"),
            "status": public_url("/recording", kind="message"),
            "nothing": public_url("/no-message")}


def _max_seconds() -> int:
    return int(current_app.config["PHONE_RECORD_MAX_SECONDS"])


def _commit() -> None:
    """Keep what the webhook learnt; a database fault must not cut a caller off."""
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        logger.exception("could not store the state of call %s; the call goes on",
                         request.form.get("CallSid"))


@bp.post("/voice")
@twilio_webhook
@writes_first
def incoming_call():
    sid = field("CallSid", required=True)
    to = field("To", size=256)
    line = calls.line_for_number(to)
    if line is None or not line.active:
        # Nothing to store: it is no line of ours. The log says who tried.
        logger.warning("call %s to %s (not a line) from %s: told and hung up", sid, to,
                       field("From", size=256))
        return twiml.twiml(twiml.unknown_number())
    call = calls.find_call(sid)
    if call is None:
        call = calls.find_or_create_call(sid, request.form, line,
                                         after_hours=not line_is_open(line))
        _commit()
    if call is not None and call.after_hours:
        if call.stage == Stage.GREETING:
            call.stage = Stage.RECORDING
            _commit()
        when = hours.describe(line.hours)
        if when:
            days = "工作日" if current_app.config["PHONE_HOURS_WORKDAYS_ONLY"] else "每日"
            when = days + when
        return twiml.twiml(twiml.after_hours(line.name, when, record=_record_urls(),
                                             max_seconds=_max_seconds()))
    return twiml.twiml(twiml.greeting(line.name, queue=queue_name(line),
                                      wait_url=public_url("/wait"),
                                      action_url=public_url("/queue-result")))


@bp.post("/wait")
@twilio_webhook
@writes_first
def hold():
    sid = field("CallSid", required=True)
    waited = number("QueueTime") or 0
    position = number("QueuePosition") or 1
    call = calls.find_or_create_call(sid, request.form)
    if call is not None and call.stage == Stage.GREETING:
        calls.mark_queued(call, waited)
        _commit()
    timeout = int(current_app.config["PHONE_QUEUE_TIMEOUT"])
    if waited >= timeout:
        # Nobody free for too long: out of the queue, to leave a message (the queue's action).
        return twiml.twiml(twiml.leave_queue())
    config = current_app.config
    pause = max(min(int(config["PHONE_HOLD_PAUSE"]), timeout - waited), 1)
    return twiml.twiml(twiml.hold(position, key_url=public_url("/wait-key"),
                                  music_url=config.get("PHONE_HOLD_MUSIC_URL"), pause=pause,
                                  offer_message=waited >= int(config["PHONE_OFFER_MESSAGE_AFTER"])))


@bp.post("/wait-key")
@twilio_webhook
def hold_key():
    if field("Digits", size=16) == "1":
        return twiml.twiml(twiml.leave_queue())
    return twiml.twiml(twiml.back_to_hold(public_url("/wait")))


@bp.post("/queue-result")
@twilio_webhook
@writes_first
def queue_result():
    sid = field("CallSid", required=True)
    result = (field("QueueResult", size=32) or "").lower()
    waited = number("QueueTime")
    call = calls.find_or_create_call(sid, request.form)
    if call is None:
        return twiml.twiml()
    call.queue_result = result
    if result in ANSWERED:
        calls.mark_answered(call, waited)
        _commit()
        return twiml.twiml()
    if result == "hangup":
        calls.mark_abandoned(call, waited, "排队等待时挂机")
        _commit()
        return twiml.twiml()
    if result in LEFT_QUEUE:
        if waited is not None and call.queue_seconds is None:
            call.queue_seconds = waited
        if call.outcome is None:
            call.stage = Stage.RECORDING
        _commit()
        return twiml.twiml(twiml.all_busy(record=_record_urls(), max_seconds=_max_seconds()))
    # "redirected": moved out of the queue by a REST request, which says what happens next.
    _commit()
    return twiml.twiml()


@bp.post("/connect")
@twilio_webhook
@writes_first
def connect():
    """<Queue url>: runs on the caller's side just before the operator is put through."""
    sid = field("CallSid", required=True)
    call = calls.find_or_create_call(sid, request.form)
    if call is not None:
        calls.mark_answered(call, number("QueueTime"), field("DequeingCallSid"))
        _commit()
    return twiml.twiml(twiml.connected(bool(current_app.config["PHONE_RECORD_CALLS"])))


@bp.post("/dequeue")
@twilio_webhook
def dequeue():
    """The operator's phone or softphone asks for the next caller of a line (`?line=fupin`)."""
    code = (request.args.get("line") or "").strip()
    line = db.session.scalar(select(Line).where(Line.code == code)) if code else None
    if line is None:
        return twiml.twiml(twiml.goodbye("未指定有效的热线线路，请检查话务员设置。"))
    record = public_url("/recording", kind="conversation") \
        if current_app.config["PHONE_RECORD_CALLS"] else None
    return twiml.twiml(twiml.operator_dequeue(
        queue_name(line), connect_url=public_url("/connect"),
        timeout=int(current_app.config["PHONE_OPERATOR_WAIT"]), recording_callback=record))


@bp.post("/message")
@twilio_webhook
@writes_first
def message_recorded():
    """<Record>'s action: the caller finished (or hung up); the message becomes a case."""
    sid = field("CallSid", required=True)
    call = calls.find_or_create_call(sid, request.form)
    recording_sid = field("RecordingSid")
    url = field("RecordingUrl", size=1000)
    seconds = number("RecordingDuration")
    if call is None:
        return twiml.twiml(twiml.goodbye(GOODBYE))
    if recording_sid and url and seconds != 0:
        case = calls.take_message(call, recording_sid, url, seconds)
        if case is None:
            return twiml.twiml(twiml.goodbye("您的留言已收到，我们会尽快与您联系。感谢您的来电，再见。"))
        return twiml.twiml(twiml.message_taken(case.number))
    return _no_message_left(call)


@bp.post("/no-message")
@twilio_webhook
@writes_first
def nothing_recorded():
    sid = field("CallSid", required=True)
    call = calls.find_or_create_call(sid, request.form)
    if call is None:
        return twiml.twiml(twiml.goodbye(GOODBYE))
    return _no_message_left(call)


def _no_message_left(call: Call) -> Response:
    """Asked for a message, the caller left none: a call-back task (once, however many of
    Twilio's callbacks say so), and goodbye, saying whether we can ring them back."""
    calls.mark_no_message(call, "提示留言后未留言")
    _commit()
    return twiml.twiml(twiml.no_message(callable_number(call.from_number) is not None))


@bp.post("/recording")
@twilio_webhook
@writes_first
def recording_status():
    sid = field("CallSid", required=True)
    status = (field("RecordingStatus", size=32) or "completed").lower()
    recording_sid = field("RecordingSid")
    url = field("RecordingUrl", size=1000)
    seconds = number("RecordingDuration")
    if request.args.get("kind") == "conversation":
        _conversation_recorded(sid, status, recording_sid, url, seconds)
        return twiml.twiml()
    call = calls.find_or_create_call(sid, request.form)
    if call is None:
        return twiml.twiml()
    if status == "completed" and recording_sid and url and seconds != 0:
        calls.take_message(call, recording_sid, url, seconds)
    elif status in ("absent", "failed", "completed") and call.outcome is None:
        calls.mark_no_message(call, "录音为空" if status != "failed" else "录音失败")
        _commit()
    return twiml.twiml()


def _conversation_recorded(sid: str, status: str, recording_sid: str | None, url: str | None,
                           seconds: int | None) -> None:
    """The recorded conversation of an answered call joins the call and, once the call is
    logged, its case. The recording belongs to the operator's leg (DequeingCallSid)."""
    call = db.session.scalar(select(Call).where(
        (Call.operator_call_sid == sid) | (Call.call_sid == sid)))
    if call is None or status != "completed" or not recording_sid:
        logger.info("conversation recording %s of call %s not kept (%s)", recording_sid, sid,
                    status if call else "unknown call")
        return
    if call.recording_sid == recording_sid:
        return
    call.recording_sid = recording_sid
    call.recording_url = url
    call.recording_seconds = seconds
    call.attach_recording()
    _commit()


@bp.post("/status")
@twilio_webhook
@writes_first
def call_status():
    sid = field("CallSid", required=True)
    status = (field("CallStatus", size=32) or "").lower()
    call = calls.find_or_create_call(sid, request.form)
    if call is None:
        return twiml.twiml()
    calls.mark_ended(call, status, number("CallDuration"))
    _commit()
    return twiml.twiml()
