"""Satisfaction surveys (回访): reading an answer from any channel, and signed survey links.

Answers arrive by WeChat, SMS, phone keys or the web page; all of them end in `record_answer`,
which puts the answer on the case's timeline. An unsatisfied answer waits for a supervisor, who
may reopen the case (重办).

A survey asks about one round of handling. Reopening the case ends that round
(`supersede_surveys`): its unanswered surveys are closed, their pending messages, reminders and
call-backs cancelled, and an answer that still comes is refused with `SurveyClosed` — every
channel replies with `closed_survey_text` instead of recording it as a rating of handling the
citizen has not seen the end of. The next closing opens a new round's survey.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select, update

from .config import base_url
from .domain import phones
from .domain.errors import Conflict, SurveyClosed
from .domain.lifecycle import Actor, Status
from .extensions import db
from .models import CallbackTask, Case, OutboxMessage, Survey
from .models.types import utcnow

RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
_BY_KEY = {"1": "satisfied", "2": "basically_satisfied", "3": "unsatisfied"}
# Longest words first: "不满意" and "基本满意" both contain "满意".
_BY_WORD = [("基本满意", "basically_satisfied"), ("不满意", "unsatisfied"),
            ("非常满意", "satisfied"), ("满意", "satisfied")]
_ANSWER = re.compile(r"^\s*([123１２３]|基本满意|不满意|非常满意|满意)(?=$|[\s,，。.;；:：!！、])"
                     r"[\s,，。.;；:：!！、]*(.*)$", re.DOTALL)


def parse_rating(text: str) -> tuple[str, str | None] | None:
    """Read "1", "2 还行", "满意", "不满意，工资还没发" as (rating, comment); None if it is not
    a survey answer."""
    match = _ANSWER.match(text or "")
    if not match:
        return None
    head, rest = match.group(1), match.group(2).strip()
    head = head.translate(str.maketrans("１２３", "123"))
    rating = _BY_KEY.get(head) or dict(_BY_WORD)[head]
    return rating, (rest or None)


def open_survey_for(*, openid: str | None = None, phone: str | None = None) -> Survey | None:
    """The survey a citizen's answer (found by openid or phone) is for: their newest open one;
    else one that a reopening closed while that case is still being handled again, so that the
    channel can say so (`record_answer` refuses it) instead of taking "3 还没付款" for new
    business."""
    query = select(Survey).join(Case).where(
        Survey.answered_at.is_(None),
        or_(Survey.superseded_at.is_(None), Case.status != Status.CLOSED))
    if openid:
        query = query.where(Case.citizen_openid == openid)
    elif phone:
        query = query.where(Case.citizen_phone_key == phones.key(phone))
    else:
        return None
    return db.session.scalar(query.order_by(Survey.superseded_at.is_not(None),
                                            Survey.sent_at.desc(), Survey.id.desc()).limit(1))


def closed_survey_text(survey: Survey) -> str:
    """What a citizen is told who answers a survey whose round a reopening ended."""
    return (f"您对工单{survey.case.number}的本次评价未记录：该事项已重新交办（重办），"
            "正在重新办理，办结后我们会再请您评价。")


def record_answer(survey: Survey, rating: str, comment: str | None, channel: str,
                  actor: Actor | None = None, at: dt.datetime | None = None) -> Survey:
    """Record an answer given at `at` (now by default; no commit). A second answer to the same
    survey is refused."""
    from .services import record_event

    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    if survey.answered_at is not None:
        raise Conflict("this survey has been answered already")
    if survey.superseded_at is not None:
        raise SurveyClosed(closed_survey_text(survey))
    survey.rating = rating
    survey.comment = comment
    survey.answer_channel = channel
    survey.answered_at = at or utcnow()
    who = actor or Actor(name=f"citizen:{channel}", role="citizen")
    record_event(survey.case, "survey", who, comment,
                 {"rating": rating, "label": RATINGS[rating], "round": survey.round},
                 at=survey.answered_at)
    return survey


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="hotline-survey")


def survey_token(survey: Survey) -> str:
    return _serializer().dumps({"s": survey.id})


def survey_from_token(token: str) -> Survey | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(Survey, data.get("s")) if isinstance(data, dict) else None


def survey_link(survey: Survey) -> str:
    return f"{base_url(current_app.config)}/survey/{survey_token(survey)}"


def supersede_surveys(case: Case, now: dt.datetime | None = None) -> int:
    """The case is reopened (at `now`): end the round its unanswered surveys ask about (no
    commit).

    Their survey messages and reminders not yet sent are cancelled, and their call-back tasks
    closed, so nobody asks the citizen to rate handling that has started again. Returns how
    many surveys were closed.
    """
    now = now or utcnow()
    ids = db.session.scalars(select(Survey.id).where(
        Survey.case_id == case.id, Survey.answered_at.is_(None),
        Survey.superseded_at.is_(None))).all()
    if not ids:
        return 0
    db.session.execute(update(Survey).where(Survey.id.in_(ids)).values(superseded_at=now)
                       .execution_options(synchronize_session="fetch"))
    note = "工单已重办，本轮回访结束"
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.case_id == case.id,
               OutboxMessage.purpose.in_(("survey", "remind")),
               OutboxMessage.status.in_(("pending", "failed")))
        .values(status="cancelled", note=note, handled_by="system", updated_at=now)
        .execution_options(synchronize_session="fetch"))
    db.session.execute(
        update(CallbackTask)
        .where(CallbackTask.case_id == case.id, CallbackTask.kind == "survey",
               CallbackTask.status == "open")
        .values(status="cancelled", done_at=now, done_by="system", note=note)
        .execution_options(synchronize_session="fetch"))
    return len(ids)


def hand_to_operator(survey: Survey, reason: str) -> CallbackTask | None:
    """Put an unanswered survey on the operators' call-back list (人工回访), once per survey;
    None when it was answered meanwhile or is already there. No commit."""
    if survey.answered_at is not None:
        return None
    key = f"survey-operator:{survey.id}"
    if db.session.scalar(select(CallbackTask.id).where(CallbackTask.dedupe_key == key)):
        return None
    case = survey.case
    task = CallbackTask(case=case, kind="survey", phone=case.citizen_phone or survey.recipient,
                        line_code=case.line.code, status="open", dedupe_key=key,
                        created_at=utcnow(),
                        reason=f"办结回访：{reason}，请致电询问对工单{case.number}办理结果是否满意")
    db.session.add(task)
    return task

