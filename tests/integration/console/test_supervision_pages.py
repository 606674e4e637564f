"""The supervisor's pages (督办台): the dashboard's counts and the lists behind them, each list's
actions through the lifecycle's rules (a refusal says why, a stale page says 此工单已被他人修改),
unsatisfied answers reopened or explained, dead letters retried or resolved, the points ledger,
and nobody but supervisors and admins gets in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from hotline import surveys
from hotline.extensions import db
from hotline.models import Case, OutboxMessage, PointsEntry

from ...conftest import CASE
from .conftest import csrf_of

LATE_CASE = {**CASE, "content": "我公司在遵义承建的厂房项目，业主拖欠工程款一百二十万元已逾一年，"
             "多次催要无果，工人工资发不出来，请帮助协调。"}


@pytest.fixture
def step(api: Any, tokens: Any):
    """One lifecycle action through the staff API, as the role that may take it."""
    who = {"operator": tokens.operator, "handler": tokens.handler,
           "supervisor": tokens.supervisor}

    def run(number: str, action: str, body: dict | None = None, as_: str = "operator") -> dict:
        resp = api.post(f"/cases/{number}/{action}", who[as_], body or {})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return run


@pytest.fixture
def accepted(api: Any, tokens: Any, step: Any):
    """A case signed for by gz-hrss; `days_ago` moves its receipt back (so its deadline)."""

    def make(days_ago: int = 0, **overrides: Any) -> str:
        body = {**LATE_CASE, **overrides}
        if days_ago:
            at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
            body["received_at"] = at.isoformat()
        resp = api.post("/cases", tokens.operator, body)
        assert resp.status_code == 201, resp.get_json()
        number = resp.get_json()["number"]
        step(number, "dispatch", {"department": "gz-hrss"})
        step(number, "accept", as_="handler")
        return number

    return make


@pytest.fixture
def closed(step: Any, accepted: Any):
    def make(**overrides: Any) -> str:
        number = accepted(**overrides)
        step(number, "reply", {"text": "经协调，业主已承诺本月底前支付全部工程款。"}, as_="handler")
        step(number, "review", {"approve": True}, as_="supervisor")
        step(number, "close")
        return number

    return make


def version_of(number: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Case.version).where(Case.number == number))


def post_form(client: Any, page: str, action: str, data: dict[str, Any]):
    """Post a form of `page` as the browser would (with the page's CSRF token), following the
    redirect back to the list."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, "back": page, **data},
                       follow_redirects=True)


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


# --- who gets in -------------------------------------------------------------------------------

def test_supervisor_lands_on_the_dashboard_and_others_are_turned_away(console_as):
    sup = console_as("supervisor")
    home = sup.get("/console/", follow_redirects=True)
    assert home.request.path == "/console/supervision"
    assert "督办台" in text_of(home)
    for role in ("operator", "handler"):
        client = console_as(role)
        nav = text_of(client.get("/console/cases"))
        assert "督办台" not in nav
        for path in ("/console/supervision", "/console/supervision/overdue",
                     "/console/supervision/unsatisfied", "/console/supervision/points",
                     "/console/supervision/dead-letters"):
            resp = client.get(path)
            assert resp.status_code == 403, (role, path)
            assert "督办台供督办人员使用" in text_of(resp)
    admin = console_as("admin")
    assert admin.get("/console/supervision").status_code == 200


def test_operator_or_handler_cannot_act_from_a_supervisors_list(console_as, accepted):
    number = accepted()
    for role in ("operator", "handler"):
        client = console_as(role)
        token = csrf_of(text_of(client.get("/console/cases")))
        resp = client.post(f"/console/supervision/cases/{number}/instruct",
                           data={"csrf_token": token, "text": "请抓紧办理",
                                 "version": version_of(number)})
        assert resp.status_code == 403, role
    assert not db.session.scalar(select(Case.supervised).where(Case.number == number))


# --- the dashboard and the case lists --------------------------------------------------------

def test_dashboard_counts_link_to_the_lists_behind_them(console_as, accepted, step):
    late = accepted(days_ago=30)
    asking = accepted()
    step(asking, "extension", {"working_days": 5, "reason": "需现场核查，涉及多个部门"},
         as_="handler")
    replied = accepted()
    step(replied, "reply", {"text": "已约谈业主，工程款分两期付清。"}, as_="handler")
    sup = console_as("supervisor")
    html = text_of(sup.get("/console/supervision"))
    counts = dict(re.findall(
        r'data-list="([\w-]+)">\s*<span class="sv-count">(\d+)</span>', html))
    assert counts["overdue"] == "1" and counts["extensions"] == "1" and counts["reviews"] == "1"
    assert 'href="/console/supervision/overdue"' in html
    overdue = text_of(sup.get("/console/supervision/overdue"))
    assert late in overdue and asking not in overdue and "逾期" in overdue
    extensions = text_of(sup.get("/console/supervision/extensions"))
    assert asking in extensions and "申请延期 5 个工作日" in extensions
    assert "需现场核查，涉及多个部门" in extensions
    reviews = text_of(sup.get("/console/supervision/reviews"))
    assert replied in reviews and "已约谈业主，工程款分两期付清。" in reviews


def test_supervisor_approves_an_extension_and_the_deadline_moves(console_as, accepted, step,
                                                                 api, tokens):
    number = accepted()
    step(number, "extension", {"working_days": 5, "reason": "需现场核查"}, as_="handler")
    before = api.get(f"/cases/{number}", tokens.supervisor).get_json()["due_date"]
    sup = console_as("supervisor")
    resp = post_form(sup, "/console/supervision/extensions",
                     f"/console/supervision/cases/{number}/extension-decision",
                     {"approve": "true", "note": "同意延期", "version": version_of(number)})
    assert resp.status_code == 200
    assert f"{number}：延期申请已同意。" in text_of(resp)
    assert number not in text_of(sup.get("/console/supervision/extensions")).split("</h1>")[1]
    case = api.get(f"/cases/{number}", tokens.supervisor).get_json()
    assert case["due_date"] > before
    decision = case["events"][-1]
    assert (decision["action"], decision["actor"], decision["note"]) == \
        ("extension-decision", "督办老李", "同意延期")


def test_a_decision_on_a_changed_case_says_so_and_changes_nothing(console_as, accepted, step):
    number = accepted()
    step(number, "extension", {"working_days": 3, "reason": "需调取档案"}, as_="handler")
    seen = version_of(number)
    step(number, "extension-decision", {"approve": False, "note": "请按期办理"}, as_="supervisor")
    sup = console_as("supervisor")
    stale = post_form(sup, "/console/supervision/extensions",
                      f"/console/supervision/cases/{number}/extension-decision",
                      {"approve": "true", "version": seen})
    assert "此工单已被他人修改" in text_of(stale)
    refused = post_form(sup, "/console/supervision/extensions",
                        f"/console/supervision/cases/{number}/extension-decision",
                        {"approve": "true", "version": version_of(number)})
    assert "没有等待审批的延期申请" in text_of(refused)
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert case.extension_days == 0


def test_review_sent_back_needs_a_note_and_goes_back_to_the_department(console_as, accepted,
                                                                       step, api, tokens):
    number = accepted()
    step(number, "reply", {"text": "已处理。"}, as_="handler")
    sup = console_as("supervisor")
    missing = post_form(sup, "/console/supervision/reviews",
                        f"/console/supervision/cases/{number}/review",
                        {"approve": "false", "version": version_of(number)})
    assert "未能审核" in text_of(missing) and "请写明意见" in text_of(missing)
    assert api.get(f"/cases/{number}", tokens.supervisor).get_json()["status"] == "replied"
    resp = post_form(sup, "/console/supervision/reviews",
                     f"/console/supervision/cases/{number}/review",
                     {"approve": "false", "note": "答复过于简单，请说明付款时间",
                      "version": version_of(number)})
    assert "答复已退回承办单位" in text_of(resp)
    case = api.get(f"/cases/{number}", tokens.supervisor).get_json()
    assert case["status"] == "accepted"
    assert case["events"][-1]["note"] == "答复过于简单，请说明付款时间"


def test_instruction_from_the_overdue_list_puts_the_case_on_the_instructed_list(
        console_as, accepted):
    number = accepted(days_ago=30)
    sup = console_as("supervisor")
    resp = post_form(sup, "/console/supervision/overdue",
                     f"/console/supervision/cases/{number}/instruct",
                     {"text": "请人社厅三日内反馈办理结果", "version": version_of(number)})
    assert f"{number}：批示已记录。" in text_of(resp)
    instructed = text_of(sup.get("/console/supervision/instructed"))
    assert number in instructed and "请人社厅三日内反馈办理结果" in instructed
    assert "督办老李" in instructed


def test_a_refused_step_names_the_status_the_case_is_in(console_as, closed):
    number = closed()
    sup = console_as("supervisor")
    resp = post_form(sup, "/console/supervision/overdue",
                     f"/console/supervision/cases/{number}/instruct",
                     {"text": "请抓紧", "version": version_of(number)})
    assert "现在是“已办结”，不能批示" in text_of(resp)


# --- unsatisfied answers -------------------------------------------------------------------

def unsatisfied(number: str, comment: str = "工程款到现在还没付") -> int:
    survey = surveys.open_survey_for(phone="13985012345")
    assert survey is not None and survey.case.number == number
    surveys.record_answer(survey, "unsatisfied", comment, "sms")
    db.session.commit()
    return survey.id


def test_supervisor_reopens_an_unsatisfied_case(console_as, closed, api, tokens):
    number = closed()
    unsatisfied(number)
    sup = console_as("supervisor")
    page = text_of(sup.get("/console/supervision/unsatisfied"))
    assert number in page and "工程款到现在还没付" in page and "不满意" in page
    resp = post_form(sup, "/console/supervision/unsatisfied",
                     f"/console/supervision/cases/{number}/reopen",
                     {"reason": "群众反映工程款仍未支付", "version": version_of(number)})
    assert f"{number}：已重办" in text_of(resp)
    case = api.get(f"/cases/{number}", tokens.supervisor).get_json()
    assert case["status"] == "reopened"
    reopen = next(e for e in case["events"] if e["action"] == "reopen")
    assert reopen["actor"] == "督办老李"
    assert reopen["data"]["reason"] == "群众反映工程款仍未支付"
    waiting = text_of(sup.get("/console/supervision/unsatisfied")).split("</h1>")[1]
    assert number not in waiting


def test_supervisor_explains_an_unsatisfied_answer_with_a_note(console_as, closed, api, tokens):
    number = closed()
    survey_id = unsatisfied(number)
    sup = console_as("supervisor")
    empty = post_form(sup, "/console/supervision/unsatisfied",
                      f"/console/supervision/surveys/{survey_id}/handled", {"note": " "})
    assert "请写明如何向群众解释" in text_of(empty)
    resp = post_form(sup, "/console/supervision/unsatisfied",
                     f"/console/supervision/surveys/{survey_id}/handled",
                     {"note": "已电话解释：工程款属合同纠纷，已告知司法途径"})
    assert "已标记为已解释处理" in text_of(resp)
    again = post_form(sup, "/console/supervision/unsatisfied",
                      f"/console/supervision/surveys/{survey_id}/handled", {"note": "再次"})
    assert "已经处理过了" in text_of(again)
    handled = text_of(sup.get("/console/supervision/unsatisfied?handled=true"))
    assert number in handled
    events = api.get(f"/cases/{number}", tokens.supervisor).get_json()["events"]
    assert events[-1]["action"] == "survey_handled"
    assert events[-1]["note"] == "已电话解释：工程款属合同纠纷，已告知司法途径"


# --- dead letters --------------------------------------------------------------------------

def dead_letter(case_number: str | None = None, status: str = "dead") -> int:
    case = db.session.scalar(select(Case).where(Case.number == case_number)) \
        if case_number else None
    message = OutboxMessage(case_id=case.id if case else None, channel="sms", purpose="notify",
                            recipient="+8613985012345", text="【省长直通车】您的诉求已办结。",
                            status=status, attempts=8, last_error="HTTP 503 from the gateway")
    db.session.add(message)
    db.session.commit()
    return message.id


def test_dead_letters_are_retried_or_resolved_by_hand(console_as, accepted):
    number = accepted()
    first, second = dead_letter(number), dead_letter(number, status="unknown")
    sup = console_as("supervisor")
    page = text_of(sup.get("/console/supervision/dead-letters"))
    assert "HTTP 503 from the gateway" in page and "结果不明" in page
    resp = post_form(sup, "/console/supervision/dead-letters",
                     f"/console/supervision/outbox/{first}/retry", {})
    assert f"消息 {first}：已重新发送。" in text_of(resp)
    no_note = post_form(sup, "/console/supervision/dead-letters",
                        f"/console/supervision/outbox/{second}/resolve", {"outcome": "sent"})
    assert "请写明处理情况" in text_of(no_note)
    resp = post_form(sup, "/console/supervision/dead-letters",
                     f"/console/supervision/outbox/{second}/resolve",
                     {"outcome": "sent", "note": "已电话告知办结结果"})
    assert "已人工处理" in text_of(resp)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, first).status == "pending"
    resolved = db.session.get(OutboxMessage, second)
    assert (resolved.status, resolved.note, resolved.handled_by) == \
        ("sent", "已电话告知办结结果", "督办老李")
    again = post_form(sup, "/console/supervision/dead-letters",
                      f"/console/supervision/outbox/{second}/retry", {})
    assert "现在是“已发送”，不能再重发" in text_of(again)


# --- the points ledger ---------------------------------------------------------------------

def test_points_ledger_per_department_with_its_lines(console_as, accepted):
    number = accepted()
    case = db.session.scalar(select(Case).where(Case.number == number))
    now = dt.datetime.now(dt.UTC)
    db.session.add_all([
        PointsEntry(department_code="gz-hrss", case_id=case.id, reason="overdue_after_reminder",
                    points=-2, at=now),
        PointsEntry(department_code="gz-hrss", case_id=case.id, reason="accept_overdue",
                    points=-1, at=now),
        PointsEntry(department_code="gov-520100", reason="overdue", points=-1, at=now),
    ])
    db.session.commit()
    sup = console_as("supervisor")
    home = text_of(sup.get("/console/supervision"))
    assert "贵州省人力资源和社会保障厅" in home
    page = text_of(sup.get("/console/supervision/points?department=gz-hrss"))
    totals = page.split('id="points-totals"')[1].split("</table>")[0]
    assert totals.index("贵州省人力资源和社会保障厅") < totals.index("贵阳市人民政府")
    assert ">-3<" in totals
    lines = page.split('id="points-entries"')[1]
    assert "催办后仍超期" in lines and "超期未签收" in lines and number in lines
    bad = sup.get("/console/supervision/points?period=2026-13")
    assert bad.status_code == 400 and "期间格式不正确" in text_of(bad)


def test_due_soon_list_holds_cases_due_within_two_working_days_and_not_the_late_ones(
        console_as, accepted):
    from hotline.domain.deadlines import end_of_day, local_date
    from hotline.supervision import due_soon_until

    soon, later, late = accepted(), accepted(), accepted(days_ago=30)
    case = db.session.scalar(select(Case).where(Case.number == soon))
    case.due_date = due_soon_until(local_date(dt.datetime.now(dt.UTC)), 1)
    case.due_at = end_of_day(case.due_date)
    db.session.commit()
    dead_letter(later)
    sup = console_as("supervisor")
    home = text_of(sup.get("/console/supervision"))
    counts = dict(re.findall(
        r'data-list="([\w-]+)">\s*<span class="sv-count">(\d+)</span>', home))
    assert counts["due-soon"] == "1" and counts["overdue"] == "1"
    assert counts["dead-letters"] == "1"
    page = text_of(sup.get("/console/supervision/due-soon")).split("</h1>")[1]
    assert soon in page and later not in page and late not in page
    assert "剩 1 个工作日" in page
