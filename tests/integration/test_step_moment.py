"""What follows a step happens at the step's moment: a case logged with earlier moments (an
import of last month's cases, the demo's history) has its messages, survey and timeline at those
moments, not at the moment the import ran."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from hotline import services, surveys
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import OutboxMessage, Survey
from hotline.models.types import utcnow

OPERATOR = Actor("op1", "operator")
HANDLER = Actor("h-gz-hrss", "handler", "gz-hrss")
SUPERVISOR = Actor("sup1", "supervisor")


def test_messages_survey_and_timeline_of_back_dated_steps_carry_their_moments(app):
    day = (utcnow() - dt.timedelta(days=20)).astimezone(PROVINCE_TZ).date()
    received = dt.datetime.combine(day, dt.time(9, 30), tzinfo=PROVINCE_TZ)
    at = {"accept": received + dt.timedelta(hours=2), "reply": received + dt.timedelta(days=1),
          "review": received + dt.timedelta(days=1, hours=1),
          "close": received + dt.timedelta(days=1, hours=2),
          "answer": received + dt.timedelta(days=1, hours=5),
          "reopen": received + dt.timedelta(days=2)}
    case, _ = services.create_case({
        "line": "zhitongche", "channel": "phone", "category": "situation",
        "department": "gz-hrss", "received_at": received,
        "content": "我公司在贵阳市承建的项目工程款被拖欠三百余万元，请协调支付。",
        "citizen": {"name": "王永华", "phone": "13985012345"}}, OPERATOR, now=received)
    number = case.number
    services.act(number, "accept", HANDLER, {}, now=at["accept"])
    services.act(number, "reply", HANDLER, {"text": "已协调住建部门于本月底前结清工程款。"},
                 now=at["reply"])
    services.act(number, "review", OPERATOR, {"approve": True}, now=at["review"])
    services.act(number, "close", OPERATOR, {}, now=at["close"])

    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)
                                  .order_by(OutboxMessage.id)).all()
    assert [(m.purpose, m.created_at) for m in messages] == [
        ("notify", received), ("notify", at["reply"]), ("notify", at["close"]),
        ("survey", at["close"])]
    survey = db.session.scalar(select(Survey).where(Survey.case_id == case.id))
    assert survey.sent_at == at["close"]  # SURVEY_DELAY_MINUTES is 0

    surveys.record_answer(survey, "unsatisfied", "工程款还没有到账", "sms", at=at["answer"])
    db.session.commit()
    services.act(number, "reopen", SUPERVISOR, {"reason": "群众反映工程款仍未支付"},
                 now=at["reopen"])

    db.session.refresh(survey)
    assert survey.answered_at == at["answer"]
    assert survey.handled_at == at["reopen"]  # the answer that led to the reopening, dealt with
    moments = [e.at for e in services.get_case(number).events]
    assert moments == sorted(moments) and moments[-1] == at["reopen"]
