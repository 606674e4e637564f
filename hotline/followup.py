"""Follow-up of a case (跟踪问效): what the citizen is told, and the survey after closing (回访).

A service of the core: `after_action` runs inside every lifecycle action's transaction (a
handler of `ActionTaken` in `hotline.wiring`), so it only writes rows: outbox messages, a survey, a call-back task. They
commit with the action or not at all, and the relay sends them afterwards — an action never
waits on Redis, Twilio or WeChat.

- dispatch, recall (改派, to the new department), interim-reply (阶段性答复, its words), reply,
  close, reopen: a status message by the citizen's channel
  (`hotline.outbox.citizen_channel`);
- close: a survey (满意 / 基本满意 / 不满意) by WeChat or SMS with a signed link and a quick
  reply; for a citizen with neither, first the "survey_call" providers of `hotline.wiring` (the
  phone channel's automated call), else a call-back task on the operators' list;
- reopen (重办): the unsatisfied answer that led to it counts as dealt with, and the surveys
  still open are closed (`hotline.surveys.supersede_surveys`): a late answer is not taken as a
  rating of the new round.

A citizen is told each thing once. A status message that would say exactly what the last one
on the case said is not sent again: a second reply after the review sent the first back
(审核退回) is still "已作出答复，正在审核" — the citizen heard that already, and hears next when
the case is closed; a case returned (退单) and dispatched again to the same department keeps
its deadline and needs no second notice. Anything new — another department, a new deadline, a
reopening and the new round's reply — is said.

The timeline is left to the people's steps (the core's tests hold it to them); what went out to
the citizen is in the outbox (`GET /api/v1/outbox?case=`), and the survey's answer is recorded
on the timeline when it comes.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, inspect, select, update

from . import outbox, surveys, wiring
from .config import setting
from .domain import lifecycle, phones
from .domain.lifecycle import Kind
from .events import ActionTaken
from .extensions import db
from .models import CallbackTask, Case, CaseEvent, OutboxMessage, Survey
from .models.types import utcnow
from .outbox import citizen_channel, department_name, enqueue

# The survey (回访) goes out this long after closing (a setting of the same name overrides it).
SURVEY_DELAY_MINUTES = 0

# An SMS of more than a few segments costs more and reads badly on a phone: answers are cut here
# and the rest is on the status page.
ANSWER_EXCERPT = 200
QUICK_REPLY = "回复1满意，2基本满意，3不满意，可在数字后附上意见"


def _signature(case: Case) -> str:
    return f"【{case.line.name}】"


def _excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= ANSWER_EXCERPT else text[:ANSWER_EXCERPT - 1] + "…"


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def status_text(case: Case, action: str, department: str,
                text: str | None = None) -> str | None:
    """The message a citizen gets when their case takes this step (None: nothing to say);
    `department` is the name of the department that has the case (`outbox.department_name`),
    `text` what the step says to them (an interim reply's words)."""
    sign, number = _signature(case), case.number
    if action == "interim-reply":
        return (f"{sign}关于您反映的事项（工单号{number}），{department}阶段性答复：{_excerpt(text)}"
                "。办理结束后将告知您结果。")
    if action in ("dispatch", "recall"):  # 改派: the citizen hears of the new department
        if case.kind == Kind.INFORM:
            return f"{sign}您反映的事项（工单号{number}）已转送{department}参阅。感谢您的意见建议。"
        return (f"{sign}您反映的事项（工单号{number}）已转交{department}办理，办理时限至"
                f"{_date(case.due_date)}。可凭工单号查询办理进度。")
    if action == "reply":
        return (f"{sign}{department}已对您反映的事项（工单号{number}）作出答复，正在审核，"
                "审核通过后将告知您办理结果。")
    if action in ("close", "accept") and case.status == lifecycle.Status.CLOSED:
        if case.kind == Kind.INFORM:
            return None  # 转阅件: the citizen was told at dispatch; there is no answer to send
        answer = case.reply_text or case.answer_text
        tail = f"答复：{_excerpt(answer)}" if answer else "感谢您的来电来信。"
        return f"{sign}您反映的事项（工单号{number}）已办结。{tail}"
    if action == "reopen":
        return (f"{sign}您反映的事项（工单号{number}）已重新交办（重办），办理时限至"
                f"{_date(case.due_date)}，我们将跟踪办理结果。")
    return None


def survey_text(case: Case, link: str) -> str:
    return (f"{_signature(case)}您反映的事项（工单号{case.number}）已办结，请对办理结果评价："
            f"{QUICK_REPLY}。也可点击链接评价：{link}")


def survey_reminder_text(case: Case, link: str) -> str:
    return (f"{_signature(case)}您对工单{case.number}的满意度评价尚未收到，请{QUICK_REPLY}；"
            f"或点击链接评价：{link}。谢谢！")


def _last_event(case: Case) -> CaseEvent:
    db.session.flush()  # the event just recorded gets its id: the message's dedupe key uses it
    return case.events[-1]


def notify(case: Case, action: str, said: str | None = None,
           at: dt.datetime | None = None) -> OutboxMessage | None:
    """Write the status message of this step (taken at `at`) for the citizen, if they can be
    reached."""
    text = status_text(case, action, department_name(case), said)
    reach = citizen_channel(case)
    if text is None or reach is None:
        return None
    channel, recipient = reach
    if inspect(case).pending:
        # Logged and dispatched in one transaction (routing's dispatch at intake): nothing has
        # been said of this case, and the transaction is all or nothing — no key needed, and
        # no flush of the half-made case.
        return enqueue(case, channel, _recipient(channel, recipient), text, "notify", at=at)
    event = _last_event(case)
    if _last_notice_text(case) == text:
        return None  # said already, and nothing has been said since
    return enqueue(case, channel, _recipient(channel, recipient), text, "notify",
                   dedupe_key=f"notify:{case.id}:{event.id}", at=at)


def _last_notice_text(case: Case) -> str | None:
    return db.session.scalar(
        select(OutboxMessage.text)
        .where(OutboxMessage.case_id == case.id, OutboxMessage.purpose == "notify")
        .order_by(OutboxMessage.id.desc()).limit(1))


def _recipient(channel: str, recipient: str) -> str:
    return (phones.e164(recipient) or recipient) if channel in ("sms", "voice") else recipient


def open_survey(case: Case, now: dt.datetime | None = None) -> Survey | None:
    """Start the survey of a case closed at `now`: by WeChat or SMS, a call, or an operator's
    call-back."""
    now = now or utcnow()
    if case.kind == Kind.INFORM:
        return None  # 转阅件 are for information: nothing was handled to rate
    round_ = (db.session.scalar(select(func.max(Survey.round)).where(Survey.case_id == case.id))
              or 0) + 1
    send_at = now + dt.timedelta(minutes=setting("SURVEY_DELAY_MINUTES", SURVEY_DELAY_MINUTES,
                                                    config=current_app.config))
    reach = citizen_channel(case)
    dedupe = f"survey:{case.id}:{round_}"
    survey = Survey(case=case, round=round_, channel="voice", recipient=case.citizen_phone,
                    sent_at=send_at)
    if outbox.withholding():
        # Recorded after the fact (the demo's history): no reminder about it goes out either.
        survey.reminded_at = now
    callers = wiring.providers("survey_call")

    if (reach is None or reach[0] != "wechat") and case.citizen_phone and callers:
        # Callers without WeChat: the phone channel may put the survey to them by a call.
        db.session.add(survey)
        db.session.flush()
        for ring in callers:
            call = ring(case, survey)  # rings no earlier than survey.sent_at
            if call is not None:
                survey.sent_at = call.next_attempt_at
                return survey

    if reach is not None:
        channel, recipient = reach
        survey.channel, survey.recipient = channel, _recipient(channel, recipient)
        db.session.add(survey)
        db.session.flush()
        link = surveys.survey_link(survey)
        message = enqueue(case, channel, survey.recipient, survey_text(case, link), "survey",
                          dedupe_key=dedupe, payload={"template": {"url": link}}, at=now)
        message.next_attempt_at = send_at
        return survey

    if case.citizen_phone:
        db.session.add(survey)
        db.session.add(CallbackTask(case=case, kind="survey", phone=case.citizen_phone,
                                    line_code=case.line.code, status="open",
                                    reason=f"办结回访：请致电询问对工单{case.number}办理结果是否满意",
                                    dedupe_key=dedupe, created_at=now))
        return survey

    return None


def after_action(event: ActionTaken) -> None:
    """After every lifecycle action, in its transaction and at its moment: tell the citizen,
    open the survey."""
    case, step, at = event.case, event.step, event.at
    if step.action in ("dispatch", "recall", "reply", "close", "reopen", "accept"):
        notify(case, step.action, at=at)
    if step.action == "interim-reply":
        notify(case, step.action, (step.data or {}).get("text"), at=at)
    if step.to_status == lifecycle.Status.CLOSED and step.from_status != step.to_status:
        open_survey(case, at)
    if step.action == "reopen":
        surveys.supersede_surveys(case, at)  # the round they asked about is over
        # The supervisor has dealt with the answers that led to the reopening.
        db.session.execute(
            update(Survey)
            .where(Survey.case_id == case.id, Survey.rating == "unsatisfied",
                   Survey.handled_at.is_(None))
            .values(handled_at=at))
