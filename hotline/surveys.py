"""Satisfaction surveys (回访): reading an answer from any channel, and signed survey links.

Answers arrive by WeChat, SMS, phone keys or the web page; all of them end in `record_answer`,
which puts the answer on the case's timeline. An unsatisfied answer waits for a supervisor, who
may reopen the case (重办).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from .domain.errors import Conflict
from .domain.lifecycle import Actor
from .extensions import db
from .models import CallbackTask, Case, OutboxMessage, Survey
from .models.types import utcnow

RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
# Other ways to put a survey to a citizen who has no WeChat (the phone channel's automated
# survey call, <Gather> 满意请按1…): fn(case, survey) -> the outbox message it wrote (with
# `outbox.enqueue`, channel "voice", payload {"twiml_url": ...}) or None to decline. The first
# that answers is used; with none, a mobile gets an SMS and anyone else an operator's call-back.
survey_call_hooks: list[Callable[[Case, Survey], OutboxMessage | None]] = []

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
    """The newest unanswered survey of a citizen, found by openid or phone."""
    query = select(Survey).join(Case).where(Survey.answered_at.is_(None))
    if openid:
        query = query.where(Case.citizen_openid == openid)
    elif phone:
        query = query.where(Case.citizen_phone == phone)
    else:
        return None
    return db.session.scalar(query.order_by(Survey.sent_at.desc(), Survey.id.desc()).limit(1))


def record_answer(survey: Survey, rating: str, comment: str | None, channel: str,
                  actor: Actor | None = None) -> Survey:
    """Record an answer (no commit). A second answer to the same survey is refused."""
    from .services import record_event

    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    if survey.answered_at is not None:
        raise Conflict("this survey has been answered already")
    survey.rating = rating
    survey.comment = comment
    survey.answer_channel = channel
    survey.answered_at = utcnow()
    who = actor or Actor(name=f"citizen:{channel}", role="citizen")
    record_event(survey.case, "survey", who, comment,
                 {"rating": rating, "label": RATINGS[rating], "round": survey.round})
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
    base = (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/survey/{survey_token(survey)}"


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

