"""The operators' queues (坐席待办): 待派单 (received, with routing's suggestion to accept in one
click or change), 退单 (returned, with the department's reason), 待审核 (replied, waiting for
review) and 回拨 (call-back tasks). The case queues are the case list with its status fixed: the
same filters, sorting and scoping as `/console/cases` and `GET /api/v1/cases`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import listing, services
from ..api.schemas import CaseListQuerySchema
from ..domain.errors import DomainError, NotFound
from ..domain.lifecycle import Status
from ..extensions import db
from ..models import Case, CaseEvent, Line
from ..models.followup import CallbackTask
from ..reports.scope import case_list_conditions
from . import bp
from .desk import departments, require_desk
from .views import case_list_page, page_filters


@dataclass(frozen=True)
class Queue:
    name: str
    label: str
    status: str | None  # None: call-back tasks, not cases


QUEUES: tuple[Queue, ...] = (
    Queue("received", "待派单", Status.RECEIVED),
    Queue("returned", "退单", Status.RETURNED),
    Queue("replied", "待审核", Status.REPLIED),
    Queue("callbacks", "回拨", None),
)
BY_NAME = {q.name: q for q in QUEUES}


def queue_counts() -> dict[str, int]:
    """How many wait in each queue now."""
    by_status = dict(db.session.execute(
        select(Case.status, func.count(Case.id))
        .where(Case.status.in_([q.status for q in QUEUES if q.status]))
        .group_by(Case.status)).all())
    counts = {q.name: int(by_status.get(q.status, 0)) for q in QUEUES if q.status}
    counts["callbacks"] = db.session.scalar(
        select(func.count(CallbackTask.id)).where(CallbackTask.status == "open")) or 0
    return counts


def return_reasons(cases: list[Case]) -> dict[int, dict[str, Any]]:
    """The last return (退单) of each case: which department sent it back, and why."""
    if not cases:
        return {}
    rows = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id.in_([c.id for c in cases]),
                                CaseEvent.action == "return").order_by(CaseEvent.id)).all()
    return {e.case_id: {"department": (e.data or {}).get("department"),
                        "reason": (e.data or {}).get("reason"), "actor": e.actor, "at": e.at}
            for e in rows}


@bp.get("/queues")
def queues():
    require_desk()
    return redirect(url_for("console.queue", name=QUEUES[0].name))


@bp.get("/queues/<name>")
def queue(name: str):
    require_desk()
    q = BY_NAME.get(name)
    if q is None:
        raise NotFound(f"no queue {name}")
    if q.status is None:
        return _callbacks(q)
    raw = {k: v for k, v in request.args.items() if v.strip() != "" and k != "status"}
    cursor = raw.pop("cursor", None)
    args, errors = page_filters(CaseListQuerySchema(), raw)
    args["status"] = q.status
    conditions = case_list_conditions(args, g.actor, dt.datetime.now(dt.UTC))
    page, per_page = args["page"], args["per_page"]
    found = case_list_page(conditions, listing.queue_order(args["sort"]), args, cursor, errors)
    rows, total = found.rows, found.total
    lines = {line.code: line.name for line in db.session.scalars(select(Line))}
    return render_template("console/queue.html", queue=q, queues=QUEUES, counts=queue_counts(),
                           rows=rows, total=total, total_exact=found.total_exact, page=page,
                           next_cursor=found.next_cursor, per_page=per_page, args=raw,
                           errors=errors, departments=dict(departments()),
                           department_choices=departments(), lines=lines,
                           returns=return_reasons(rows) if q.status == Status.RETURNED else {},
                           now=dt.datetime.now(dt.UTC))


def _callbacks(q: Queue):
    """The open call-back tasks (the API's `GET /api/v1/callbacks`), oldest first."""
    line = (request.args.get("line") or "").strip()[:32]
    kind = (request.args.get("kind") or "").strip()[:16]
    order = request.args.get("sort", "created")
    query = select(CallbackTask).where(CallbackTask.status == "open")
    if line:
        query = query.where(CallbackTask.line_code == line)
    if kind:
        query = query.where(CallbackTask.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    per_page = 20
    newest = order == "-created"
    rows = db.session.scalars(
        query.order_by(CallbackTask.created_at.desc() if newest else CallbackTask.created_at,
                       CallbackTask.id.desc() if newest else CallbackTask.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    lines = {line.code: line.name for line in db.session.scalars(select(Line))}
    args = {k: v for k, v in request.args.items() if v.strip()}
    return render_template("console/queue.html", queue=q, queues=QUEUES, counts=queue_counts(),
                           tasks=rows, total=total, page=page, per_page=per_page, args=args,
                           errors={}, lines=lines, now=dt.datetime.now(dt.UTC))


@bp.post("/queues/dispatch/<number>")
def dispatch(number: str):
    """Dispatch from the 待派单/退单 queue: routing's suggestion in one click, or another
    department. The lifecycle's `dispatch` rules, with the version the operator saw."""
    require_desk()
    back = request.form.get("back") or url_for("console.queue", name="received")
    if not back.startswith("/console/"):
        back = url_for("console.queue", name="received")
    body: dict[str, Any] = {"department": (request.form.get("department") or "").strip()[:32]}
    try:
        body["version"] = int(request.form.get("version", ""))
    except ValueError:
        pass
    try:
        services.act(number, "dispatch", g.actor, body)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        return render_template("console/error.html", title="未能派单",
                               message=_dispatch_message(exc), back=back), exc.status
    return redirect(back)


def _dispatch_message(exc: DomainError) -> str:
    if exc.code == "stale_version" or exc.status == 409:
        return "这件工单刚被别人处理过（已派单或已变更），请刷新队列后再看。"
    if exc.fields and "department" in exc.fields:
        return "请选择一个承办单位。"
    return exc.message
