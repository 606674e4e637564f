"""What a citizen asks about their own cases: a case's status (only their own: the same
"not found" otherwise), their recent cases, and a survey answer for a case of theirs — theirs
being written from this openid or with the phone they confirmed."""

from __future__ import annotations

from sqlalchemy import or_, select

from hotline.domain import phones
from hotline.domain.errors import SurveyClosed
from hotline.extensions import db
from hotline.models import Case
from hotline.surveys import open_survey_for, record_answer

from . import texts
from .intents import Intent
from .models import WeChatFollower
from .outcome import CITIZEN, Outcome

RECENT_CASES = 5


def _own_cases(follower: WeChatFollower):
    """A filter for the cases this citizen may see: written with this openid, or with the
    phone number they confirmed."""
    mine = Case.citizen_openid == follower.openid
    if follower.phone:
        return or_(mine, Case.citizen_phone_key == phones.key(follower.phone))
    return mine


def query(follower: WeChatFollower, number: str) -> Outcome:
    case = db.session.scalar(select(Case).where(Case.number == number, _own_cases(follower)))
    if case is None:
        return Outcome(texts.not_found(number), "query")
    answer = None
    if case.status in ("reviewed", "closed") and case.reply_text:
        answer = case.reply_text
    elif case.status in ("answered", "closed") and case.answer_text:
        answer = case.answer_text
    reply = texts.case_status(
        case.number, case.line.name, case.status, case.received_at,
        case.department.name if case.department is not None else None,
        case.due_date, case.deadline_provisional, answer)
    return Outcome(reply, "query", case)


def mine(follower: WeChatFollower) -> Outcome:
    cases = db.session.scalars(
        select(Case).where(_own_cases(follower))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(RECENT_CASES))
    rows = [(c.number, c.status, c.received_at, c.content) for c in cases]
    return Outcome(texts.mine(rows), "mine")


def answer_survey(follower: WeChatFollower, intent: Intent) -> Outcome | None:
    survey = open_survey_for(openid=follower.openid)
    if survey is None and follower.phone:
        survey = open_survey_for(phone=follower.phone)
    if survey is None:
        return None
    try:
        record_answer(survey, intent.rating or "", intent.comment, "wechat", actor=CITIZEN)
    except SurveyClosed as closed:
        return Outcome(closed.message, "survey_closed", survey.case)
    return Outcome(texts.survey_thanks(survey.case.number, intent.rating or ""), "survey",
                   survey.case)
