"""A call's way from ring to case: the state changes Twilio's webhooks cause.

Each function changes the call (and what follows from it) in the caller's transaction and is
safe to run again for the same callback: Twilio repeats webhooks, and the queue's action and
the call's status callback can both report the same hang-up, in either order.

- answered (an operator took the call off the queue): the call is marked, earlier missed-call
  tasks of the same caller are moot;
- abandoned (hung up before anyone answered) and "asked to leave a message but left none":
  a missed-call task (回拨) on the operators' list, one open task per caller and line;
- a recorded message: a case (channel ``phone``) with the recording attached, a call-back task
  of kind ``recording`` and an acknowledgement SMS with the case number — once per RecordingSid.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline import outbox, services
from hotline.domain import phones
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.errors import DomainError
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.filing import join_case
from hotline.models import Call, CallbackTask, Case, Line
from hotline.models.calls import Outcome, Stage, callable_number
from hotline.models.types import utcnow

logger = logging.getLogger(__name__)

CALLER = Actor(name="citizen:phone", role="citizen")
#: Twilio call statuses after which nothing more happens on the call.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def line_for_number(number: str | None) -> Line | None:
    """The active line whose phone number was called (any spelling of it)."""
    if not number:
        return None
    lines = db.session.scalars(select(Line).where(Line.phone_number.is_not(None)))
    return next((line for line in lines if phones.same(line.phone_number, number)), None)


def find_call(call_sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.call_sid == call_sid))


def find_or_create_call(call_sid: str, form: Mapping[str, str], line: Line | None = None,
                        *, after_hours: bool = False, now: dt.datetime | None = None
                        ) -> Call | None:
    """The call's row, created from the webhook's form when this is the first we hear of it
    (a later callback can arrive for a call whose first webhook failed). None when the number
    called is no line of ours."""
    call = find_call(call_sid)
    if call is not None:
        return call
    line = line or line_for_number(form.get("To"))
    if line is None:
        return None
    call = Call(call_sid=call_sid, direction="inbound", line=line,
                from_number=_clip(form.get("From")), to_number=_clip(form.get("To")),
                started_at=now or utcnow(), after_hours=after_hours, stage=Stage.GREETING)
    try:
        with db.session.begin_nested():
            db.session.add(call)
    except IntegrityError:  # the same webhook, delivered twice at once
        call = find_call(call_sid)
    return call


def mark_queued(call: Call, queue_seconds: int, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    if call.stage == Stage.GREETING:
        call.stage = Stage.QUEUED
        call.enqueued_at = now - dt.timedelta(seconds=queue_seconds)


def mark_answered(call: Call, queue_seconds: int | None, operator_call_sid: str | None = None,
                  now: dt.datetime | None = None) -> None:
    """An operator took the call (the queue's connect URL, or the queue's "bridged" result)."""
    now = now or utcnow()
    if operator_call_sid and not call.operator_call_sid:
        call.operator_call_sid = operator_call_sid
    if queue_seconds is not None and call.queue_seconds is None:
        call.queue_seconds = queue_seconds
    if call.outcome == Outcome.ANSWERED:
        return
    call.outcome = Outcome.ANSWERED
    if call.stage != Stage.ENDED:
        call.stage = Stage.CONNECTED
    if call.enqueued_at is None and queue_seconds is not None:
        call.enqueued_at = now - dt.timedelta(seconds=queue_seconds)
    call.answered_at = now
    # A status callback that came first may have taken this call for a missed one.
    _cancel_own_task(call, "来电已由话务员接听")
    _cancel_open_tasks_of_caller(call, "来电人再次来电，已由话务员接听")


def mark_abandoned(call: Call, queue_seconds: int | None, why: str,
                   now: dt.datetime | None = None) -> CallbackTask | None:
    """The caller hung up before an operator answered: a missed call to ring back (回拨)."""
    if queue_seconds is not None and call.queue_seconds is None:
        call.queue_seconds = queue_seconds
    if call.outcome is not None:
        return None
    call.outcome = Outcome.ABANDONED
    call.stage = Stage.ENDED
    call.ended_at = call.ended_at or now or utcnow()
    return missed_call_task(call, why)


def mark_no_message(call: Call, why: str) -> CallbackTask | None:
    """Asked to leave a message, the caller left none: ring them back too."""
    if call.outcome is not None:
        return None
    call.outcome = Outcome.NO_MESSAGE
    return missed_call_task(call, why)


def mark_ended(call: Call, status: str, duration: int | None,
               now: dt.datetime | None = None) -> CallbackTask | None:
    """Twilio's call status callback: the call is over (or still going)."""
    call.twilio_status = status
    if status not in FINAL_STATUSES:
        return None
    if duration is not None:
        call.duration_seconds = duration
    call.ended_at = call.ended_at or now or utcnow()
    was = call.stage
    call.stage = Stage.ENDED
    if call.outcome is not None:
        return None
    if status == "failed":
        call.outcome = Outcome.FAILED
        return None
    if was in (Stage.GREETING, Stage.QUEUED):
        return mark_abandoned(call, None, "排队等待时挂机" if was == Stage.QUEUED
                              else "问候语播放时挂机")
    if was == Stage.RECORDING:
        # If a recording does arrive later, taking it cancels this task.
        return mark_no_message(call, "提示留言后未留言即挂机")
    return None


def missed_call_task(call: Call, why: str) -> CallbackTask | None:
    """The caller's open missed-call task on this line, made or brought up to date."""
    phone = callable_number(call.from_number)
    if phone is None:
        logger.info("missed call %s from a withheld number: nobody to call back", call.call_sid)
        return None
    line_code = call.line.code
    when = call.started_at.astimezone(PROVINCE_TZ).strftime("%m-%d %H:%M")
    task = db.session.scalar(
        select(CallbackTask).where(CallbackTask.kind == "missed_call",
                                   CallbackTask.status == "open",
                                   CallbackTask.phone == phone,
                                   CallbackTask.line_code == line_code)
        .order_by(CallbackTask.id).limit(1))
    if task is not None:
        # One task per caller: counted from the calls themselves, so a repeated callback does
        # not add to the count.
        missed = db.session.scalar(
            select(func.count(Call.id)).where(
                Call.from_number == call.from_number, Call.line_id == call.line_id,
                Call.outcome.in_([Outcome.ABANDONED, Outcome.NO_MESSAGE]),
                Call.started_at >= task.created_at - dt.timedelta(minutes=1)))
        task.reason = f"未接来电 {max(missed or 1, 1)} 次，最近一次 {when}：{why}"
        return task
    task = CallbackTask(kind="missed_call", phone=phone, line_code=line_code,
                        reason=f"未接来电，{when}：{why}", status="open",
                        dedupe_key=f"missed_call:{call.call_sid}", created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(task)
    except IntegrityError:
        task = db.session.scalar(select(CallbackTask).where(
            CallbackTask.dedupe_key == f"missed_call:{call.call_sid}"))
    return task


def take_message(call: Call, recording_sid: str, recording_url: str,
                 seconds: int | None) -> Case | None:
    """A recorded message becomes a case, once per RecordingSid. Commits.

    The case carries the recording, a call-back task (kind ``recording``: nobody has heard
    the caller yet) and, for a mobile number, an SMS acknowledgement with the case number.
    If intake refuses the case (the line was closed meanwhile), the recording stays on the call
    with a call-back task, and None is returned: a message is never lost.
    """
    key = f"twilio-recording:{recording_sid}"
    existing = db.session.scalar(select(Case).where(Case.idempotency_key == key))
    if existing is not None:
        return existing
    line = call.line
    phone = callable_number(call.from_number)
    local = call.started_at.astimezone(PROVINCE_TZ)
    why = "非服务时间来电" if call.after_hours else "话务员忙时来电"
    length = f"{seconds} 秒" if seconds else "时长未知"
    content = (f"电话留言（{why}，{local:%Y-%m-%d %H:%M}，录音 {length}）。"
               f"来电号码：{call.from_number or '未显示'}。请听取录音后回电核实诉求。")
    data = {"line": line.code, "channel": "phone", "content": content,
            "citizen": {"phone": phone}, "received_at": call.started_at,
            "note": "来电留言，录音见附件"}
    try:
        case, _ = services.create_case(data, CALLER, idempotency_key=key, commit=False)
        call.recording_sid = recording_sid
        call.recording_url = recording_url
        call.recording_seconds = seconds
        call.outcome = Outcome.MESSAGE
        if call.stage != Stage.ENDED:
            call.stage = Stage.RECORDING
        _cancel_own_task(call, f"来电人已留言，转为工单 {case.number}")
        join_case(call, case, CALLER, "来电留言")
        db.session.add(CallbackTask(
            case=case, kind="recording", phone=phone, line_code=line.code,
            reason=f"来电留言（{why}），请听取录音后回电", status="open",
            dedupe_key=f"recording:{recording_sid}", created_at=utcnow()))
        acknowledge(case)
        db.session.commit()
    except IntegrityError:
        # The same recording's other callback made the case at the same moment.
        db.session.rollback()
        existing = db.session.scalar(select(Case).where(Case.idempotency_key == key))
        if existing is None:
            raise
        return existing
    except DomainError as exc:
        db.session.rollback()
        logger.error("message %s of call %s is no case (%s); kept on the call for a call-back",
                     recording_sid, call.call_sid, exc.message)
        _keep_uncased_message(call, recording_sid, recording_url, seconds, why)
        return None
    logger.info("recorded message %s of call %s is case %s", recording_sid, call.call_sid,
                case.number)
    return case


def _keep_uncased_message(call: Call, recording_sid: str, recording_url: str,
                          seconds: int | None, why: str) -> None:
    call.recording_sid = recording_sid
    call.recording_url = recording_url
    call.recording_seconds = seconds
    call.outcome = Outcome.MESSAGE
    if db.session.scalar(select(CallbackTask).where(
            CallbackTask.dedupe_key == f"recording:{recording_sid}")) is None:
        db.session.add(CallbackTask(
            kind="recording", phone=callable_number(call.from_number), line_code=call.line.code,
            reason=f"来电留言（{why}）未能自动登记为工单，请听取录音 {recording_url} 后处理",
            status="open", dedupe_key=f"recording:{recording_sid}", created_at=utcnow()))
    db.session.commit()


def acknowledgement_text(case: Case) -> str:
    return (f"【{case.line.name}】您好，您反映的问题已登记，工单号：{case.number}。"
            "我们将在规定时限内办理并答复您；回复工单号可查询办理进度。")


def acknowledge(case: Case) -> None:
    """The SMS that gives the citizen the case number (the standard: within 3 minutes); the
    workers' relay sends it from the line's number. Only mobile phones can receive it."""
    reach = outbox.citizen_channel(case)
    if reach is None or reach[0] != "sms":
        return
    outbox.enqueue(case, "sms", reach[1], acknowledgement_text(case), "ack",
                   dedupe_key=f"ack:{case.number}",
                   payload={"from_number": case.line.phone_number, "line": case.line.code})


def _cancel_own_task(call: Call, note: str) -> None:
    task = db.session.scalar(select(CallbackTask).where(
        CallbackTask.dedupe_key == f"missed_call:{call.call_sid}"))
    if task is not None and task.status == "open":
        _cancel(task, note)


def _cancel_open_tasks_of_caller(call: Call, note: str) -> None:
    phone = callable_number(call.from_number)
    if phone is None:
        return
    for task in db.session.scalars(select(CallbackTask).where(
            CallbackTask.kind == "missed_call", CallbackTask.status == "open",
            CallbackTask.phone == phone, CallbackTask.line_code == call.line.code)):
        _cancel(task, note)


def _cancel(task: CallbackTask, note: str) -> None:
    # Not "done": the reports count call-backs that operators made, and this one was not.
    task.status = "cancelled"
    task.done_at = utcnow()
    task.done_by = "system"
    task.note = note


def _clip(value: str | None, size: int = 32) -> str | None:
    value = (value or "").strip()
    return value[:size] or None
