"""The citizen is told which department has their case: in the notice of a case logged and
dispatched in one step, and after several steps taken in one transaction (an import, the
demo's history), each notice names the department of its own step."""

from __future__ import annotations

from sqlalchemy import select

from hotline import services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Case, OutboxMessage

from ..conftest import CASE

OPERATOR = Actor("op1", "operator")
HRSS = "贵州省人力资源和社会保障厅"
GUIYANG = "贵阳市人民政府"


def notices(number: str) -> list[str]:
    case = db.session.scalar(select(Case).where(Case.number == number))
    return list(db.session.scalars(select(OutboxMessage.text).where(
        OutboxMessage.case_id == case.id, OutboxMessage.purpose == "notify")
        .order_by(OutboxMessage.id)))


def test_case_logged_and_dispatched_in_one_step_names_the_department(api, tokens):
    r = api.post("/cases", tokens.operator, {**CASE, "department": "gz-hrss"})
    assert r.status_code == 201, r.get_json()
    [told] = notices(r.get_json()["number"])
    assert f"已转交{HRSS}办理" in told, told


def test_each_step_of_one_transaction_names_the_department_it_went_to(app):
    case, _ = services.create_case(CASE, OPERATOR)
    with services.committing():
        services.apply_action(case, "dispatch", OPERATOR, {"department": "gz-hrss"})
        services.apply_action(case, "return", Actor("h1", "handler", "gz-hrss"),
                              {"reason": "属贵阳市职责，不属我单位办理范围。"})
        services.apply_action(case, "dispatch", OPERATOR, {"department": "gov-520100"})
        services.apply_action(case, "accept", Actor("h2", "handler", "gov-520100"), {})
        services.apply_action(case, "reply", Actor("h2", "handler", "gov-520100"),
                              {"text": "已协调区住建局，工程款月底前分两期支付。"})
    first, second, replied = notices(case.number)
    assert f"已转交{HRSS}办理" in first
    assert f"已转交{GUIYANG}办理" in second, second
    assert replied.startswith(f"【服务民营企业省长直通车】{GUIYANG}已对您反映的事项"), replied
