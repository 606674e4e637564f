"""The supervisor's pages (督办台, /console/supervision): a dashboard whose counts link to the
lists behind them, and each list with its actions — overdue and due soon (批示督办), extension
requests (同意/不同意延期), replies to review (通过/退回), unsatisfied answers (重办 or 解释),
cases under leadership instruction (领导批示), dead letters (重发/人工处理) and the points
ledger (积分) per department. Board publications waiting for approval are `publications.py`.

The lists are `hotline.supervision`'s, the same queries as the API's `/supervision/...`; the
case actions go through `services.act` with the API's action schemas and the version the
supervisor saw, the others through the same service calls as the API (`outbox`,
`supervision.mark_handled`). Who may open these pages is `nav.SUPERVISION` (supervisors and
admins, as the API's supervisor lists).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import Select, select

from .. import outbox, paging, services, supervision
from ..api.schemas import ACTION_SCHEMAS
from ..domain import lifecycle
from ..domain.deadlines import local_date
from ..domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    IllegalTransition,
    NotFound,
    StaleVersion,
)
from ..domain.names import (
    OUTBOX_CHANNEL_NAMES,
    OUTBOX_STATUS_NAMES,
    POINTS_REASON_NAMES,
    RATING_NAMES,
    STATUS_NAMES,
)
from ..extensions import db
from ..models import Case, Department, OutboxMessage, Survey
from ..models.types import utcnow
from ..publication import work_list
from ..reports.periods import parse_period
from . import bp, nav
from .case import ACTION_LABELS, FORM_ERRORS, PURPOSE_NAMES, _form_body

PER_PAGE = 30


@dataclass(frozen=True)
class CaseList:
    """One of the supervisor's lists of cases: its name in the address, its title, what it
    selects (given now) and the actions its rows offer."""

    name: str
    label: str
    hint: str
    actions: tuple[str, ...]


CASE_LISTS: tuple[CaseList, ...] = (
    CaseList("overdue", "已逾期", "办理期限已过、仍未办结的工单，逾期最久的在前。", ("instruct",)),
    CaseList("due-soon", "即将到期", "两个工作日内到期的工单（催办），最急的在前。", ("instruct",)),
    CaseList("extensions", "延期申请", "承办单位申请延期、等待审批的工单。", ("extension-decision",)),
    CaseList("reviews", "待审核答复", "承办单位已答复、等待审核的工单，最早答复的在前。", ("review",)),
    CaseList("instructed", "领导批示", "有领导批示（督办件）、尚未办结的工单。", ("instruct",)),
)
CASE_LIST = {c.name: c for c in CASE_LISTS}
# The actions a supervisor's list may post, and what each is called in a message.
LIST_ACTIONS = frozenset({"extension-decision", "review", "reopen", "instruct"})
# Why a case is not ready for an action (the lifecycle table's `ready` rules), in Chinese.
NOT_READY = {
    "extension-decision": "这件工单没有等待审批的延期申请（可能已被他人审批）。",
    "extension": "这件工单已有一项延期申请在等待审批。",
    "answer": "转阅件不能即时答复。",
}


def require_supervisor() -> None:
    """These pages are the supervisors' (and admins'): the role table of `nav.py`."""
    if g.user.role not in nav.SUPERVISION:
        raise Forbidden("督办台供督办人员使用。")


def _query(name: str, now: dt.datetime) -> Select:
    if name == "overdue":
        return supervision.overdue_cases(now)
    if name == "due-soon":
        return supervision.due_soon_cases(now)[0]
    if name == "extensions":
        return supervision.extension_requests()
    if name == "reviews":
        return supervision.awaiting_review()
    return supervision.instructed_cases()


def counts(now: dt.datetime) -> dict[str, int]:
    """How many wait on each list now (the dashboard's figures)."""
    out = {c.name: paging.count(_query(c.name, now)) for c in CASE_LISTS}
    out["unsatisfied"] = paging.count(supervision.unsatisfied_answers())
    out["dead-letters"] = paging.count(supervision.dead_letters())
    out["publications"] = paging.count(work_list("candidate"))
    return out


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _department_names() -> dict[str, str]:
    return {d.code: d.name for d in db.session.scalars(select(Department))}


def _month_so_far(today: dt.date) -> tuple[dt.date, dt.date]:
    return today.replace(day=1), today


# --- pages -------------------------------------------------------------------------------------

@bp.get("/supervision")
def supervision_home():
    """The dashboard: each list's count, linking to it, and this month's lowest points."""
    require_supervisor()
    now = utcnow()
    start, end = _month_so_far(local_date(now))
    return render_template("console/supervision.html", lists=CASE_LISTS, counts=counts(now),
                           points=supervision.points_totals(start, end)[:5], start=start,
                           end=end)


@bp.get("/supervision/<name>")
def supervision_list(name: str):
    require_supervisor()
    if name == "unsatisfied":
        return _unsatisfied()
    if name == "dead-letters":
        return _dead_letters()
    if name == "points":
        return _points()
    which = CASE_LIST.get(name)
    if which is None:
        raise NotFound(f"no list {name}")
    now = utcnow()
    rows, total = paging.page_of(_query(name, now), _page_number(), PER_PAGE)
    extra: dict[str, Any] = {}
    if name == "instructed":
        extra["instructions"] = supervision.latest_instructions(rows)
    if name in ("overdue", "due-soon"):
        extra["marks"] = supervision.current_marks(rows)
    return render_template(
        "console/supervision_cases.html", which=which, lists=CASE_LISTS, counts=counts(now),
        rows=rows, total=total, page=_page_number(), per_page=PER_PAGE, args={},
        departments=_department_names(), now=now, action_labels=ACTION_LABELS,
        calendar=services.work_calendar(), today=local_date(now), **extra)


def _unsatisfied():
    handled = request.args.get("handled") == "true"
    now = utcnow()
    page = _page_number()
    rows, total = paging.page_of(supervision.unsatisfied_answers(handled), page, PER_PAGE)
    return render_template(
        "console/supervision_unsatisfied.html", lists=CASE_LISTS, counts=counts(now),
        rows=rows, total=total, page=page, per_page=PER_PAGE,
        args={"handled": "true"} if handled else {}, handled=handled,
        departments=_department_names(), rating_names=RATING_NAMES, now=now)


def _dead_letters():
    now = utcnow()
    page = _page_number()
    rows, total = paging.page_of(supervision.dead_letters(), page, PER_PAGE)
    return render_template(
        "console/supervision_dead_letters.html", lists=CASE_LISTS, counts=counts(now),
        rows=rows, total=total, page=page, per_page=PER_PAGE, args={},
        status_names_outbox=OUTBOX_STATUS_NAMES, outbox_channel_names=OUTBOX_CHANNEL_NAMES,
        purpose_names=PURPOSE_NAMES, now=now)


def _points():
    """The ledger per department for a period (this month by default), and the lines of one."""
    now = utcnow()
    start, end = _month_so_far(local_date(now))
    period_text = (request.args.get("period") or "").strip()[:40]
    error = None
    if period_text:
        try:
            period = parse_period(period_text)
            start, end = period.start, period.end
        except DomainError:
            error = "期间格式不正确，请写成 2026-11、2026-W48、2026-Q4 或 2026。"
    department = (request.args.get("department") or "").strip()[:32] or None
    names = _department_names()
    entries = supervision.points_entries(department, start, end) if department in names else []
    return render_template(
        "console/supervision_points.html", lists=CASE_LISTS, counts=counts(now),
        totals=supervision.points_totals(start, end), entries=entries, department=department,
        departments=names, start=start, end=end, period=period_text, error=error,
        reasons=POINTS_REASON_NAMES), 400 if error else 200


# --- actions -----------------------------------------------------------------------------------

def _back(default: str) -> str:
    back = request.form.get("back") or ""
    return back if back.startswith("/console/") else url_for("console.supervision_list",
                                                             name=default)


def refusal_text(exc: DomainError, action: str, case: Case | None) -> str:
    """Why the lifecycle refused an action, in the words of the page."""
    label = ACTION_LABELS.get(action, action)
    if isinstance(exc, Forbidden):
        return f"您的角色不能{label}。"
    if isinstance(exc, IllegalTransition) and case is not None:
        rule = lifecycle.ACTIONS[action]
        if rule.sources is not None and case.status not in rule.sources:
            return (f"这件工单现在是“{STATUS_NAMES.get(case.status, case.status)}”，"
                    f"不能{label}（可能已被他人处理）。")
        return NOT_READY.get(action, f"这件工单现在不能{label}。")
    if exc.fields:
        return " ".join(FORM_ERRORS.get(k, f"“{k}”填写不正确。") for k in exc.fields)
    return f"未能{label}。"


@bp.post("/supervision/cases/<number>/<action>")
def supervision_act(number: str, action: str):
    """One lifecycle action from a list's row: 批示, 延期审批, 审核, 重办."""
    require_supervisor()
    services.get_case(number, g.actor)
    if action not in LIST_ACTIONS:
        raise NotFound(f"no action {action}")
    back = _back("overdue")
    label = ACTION_LABELS[action]
    schema = ACTION_SCHEMAS[action]()
    try:
        body = schema.load(_form_body(schema))
    except ValidationError as exc:
        flash(f"{number} 未能{label}：" + " ".join(
            FORM_ERRORS.get(k, f"“{k}”填写不正确。") for k in exc.messages), "error")
        return redirect(back)
    if "version" not in body:
        flash(f"{number} 未能{label}：{FORM_ERRORS['version']}", "error")
        return redirect(back)
    try:
        services.act(number, action, g.actor, body)
    except StaleVersion:
        db.session.rollback()
        flash(f"{number}：此工单已被他人修改，您的“{label}”没有执行。请查看最新状态后再操作。",
              "error")
        return redirect(back)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        case = db.session.scalar(select(Case).where(Case.number == number))
        flash(f"{number} 未能{label}：{refusal_text(exc, action, case)}", "error")
        return redirect(back)
    done = {"extension-decision": "延期申请已" + ("同意" if body.get("approve") else "不同意"),
            "review": "答复已" + ("审核通过" if body.get("approve") else "退回承办单位"),
            "reopen": "已重办，重新派单后承办单位重新办理", "instruct": "批示已记录"}[action]
    flash(f"{number}：{done}。", "ok")
    return redirect(back)


@bp.post("/supervision/surveys/<int:survey_id>/handled")
def supervision_survey_handled(survey_id: int):
    """An unsatisfied answer explained to the citizen (not reopened), with a note."""
    require_supervisor()
    back = _back("unsatisfied")
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    note = (request.form.get("note") or "").strip()[:2000]
    try:
        supervision.mark_handled(survey, g.actor, note)
    except Conflict:
        db.session.rollback()
        flash(f"{survey.case.number}：这条不满意评价已经处理过了。", "error")
        return redirect(back)
    except DomainError as exc:
        db.session.rollback()
        text = "请写明如何向群众解释或处理。" if exc.fields else "这条评价不需要督办处理。"
        flash(f"{survey.case.number} 未能标记为已处理：{text}", "error")
        return redirect(back)
    db.session.commit()
    flash(f"{survey.case.number}：不满意评价已标记为已解释处理。", "ok")
    return redirect(back)


@bp.post("/supervision/outbox/<int:message_id>/<any(retry, resolve):what>")
def supervision_outbox(message_id: int, what: str):
    """A dead letter sent again now, or closed by hand (confirmed sent, or cancelled)."""
    require_supervisor()
    back = _back("dead-letters")
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    note = (request.form.get("note") or "").strip()[:2000] or None
    status_before = message.status
    try:
        if what == "retry":
            outbox.retry_message(message, g.user.name, note)
        else:
            if not note:
                flash("未能处理：请写明处理情况（如已电话告知）。", "error")
                return redirect(back)
            outbox.resolve_message(message, request.form.get("outcome", ""), g.user.name, note)
    except IllegalTransition:
        db.session.rollback()
        flash(f"消息 {message_id} 现在是“{OUTBOX_STATUS_NAMES.get(status_before, status_before)}”，"
              "不能再重发或人工处理（可能已被他人处理）。", "error")
        return redirect(back)
    except DomainError:
        db.session.rollback()
        flash("未能处理：请选择“已送达”或“不再发送”。", "error")
        return redirect(back)
    db.session.commit()
    flash(f"消息 {message_id}：" + ("已重新发送" if what == "retry" else "已人工处理") + "。", "ok")
    return redirect(back)
