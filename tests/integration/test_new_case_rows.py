"""Intake writes a new case's rows in one go (`hotline.new_rows`), not through the ORM's unit
of work: what it answers is what a reader reads back, a rollback takes all of it, and a
session holding anything else is flushed whole as before."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline import services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import AuthEvent, Case, CaseEvent, OutboxMessage, ReportCell
from tests.conftest import CASE

OPERATOR = Actor("op1", "operator")


def counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Case, CaseEvent, OutboxMessage, ReportCell)}


def test_the_answer_to_an_intake_is_what_a_reader_reads_back(app, api, tokens):
    for body in (CASE, {**CASE, "department": "gz-hrss"},
                 {**CASE, "category": None, "region": None, "line": "fupin",
                  "content": "我是毕节市威宁县哈喇河镇的村民，给一包农用肥就被强制脱贫，请调查处理"}):
        body = {k: v for k, v in body.items() if v is not None}
        answered = api.post("/cases", tokens.operator, body)
        assert answered.status_code == 201, answered.get_json()
        db.session.remove()  # what the database holds, not what the session remembers
        read = api.get(f"/cases/{answered.get_json()['number']}", tokens.operator)
        assert read.get_json() == answered.get_json()


def test_a_rollback_after_intake_leaves_no_row(app):
    before = counts()
    case, created = services.create_case({**CASE, "department": "gz-hrss"}, OPERATOR,
                                         commit=False)
    assert created and case.id is not None and all(e.id is not None for e in case.events)
    db.session.rollback()
    assert counts() == before
    assert case not in db.session


def test_intake_with_other_changes_pending_writes_them_all(app):
    before = counts()
    db.session.add(AuthEvent(kind="sign_in", user_name="op1"))
    case, _ = services.create_case({**CASE, "department": "gz-hrss"}, OPERATOR, commit=False)
    number = case.number
    db.session.commit()
    db.session.remove()
    after = counts()
    assert after["cases"] == before["cases"] + 1
    assert db.session.scalar(select(Case.status).where(Case.number == number)) == "dispatched"
    assert after["case_events"] == before["case_events"] + 2
    assert db.session.scalar(select(func.count(AuthEvent.id))) == 1
