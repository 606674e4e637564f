"""Cases: intake, list, one case with its timeline, and the lifecycle actions."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from sqlalchemy import func, or_, select

from .. import services
from ..domain.deadlines import PROVINCE_TZ, end_of_day
from ..domain.errors import NotFound
from ..domain.lifecycle import ACTIONS, Role, Status
from ..extensions import db
from ..models import Case, Category, Line
from . import api
from .auth import login_required
from .schemas import (
    ACTION_SCHEMAS,
    CaseCreateSchema,
    CaseDetailSchema,
    CaseListQuerySchema,
    CaseSchema,
)
from .util import json_body, query_args

STAFF = (Role.OPERATOR, Role.HANDLER, Role.SUPERVISOR)
_case = CaseSchema()
_detail = CaseDetailSchema()


def region_prefix(code: str) -> str:
    """Cases of a division include those of the divisions inside it (province > city > county)."""
    code = code[:6]
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@api.post("/cases")
@login_required(Role.OPERATOR, Role.SUPERVISOR)
def create_case():
    data = json_body(CaseCreateSchema())
    key = request.headers.get("Idempotency-Key", "").strip() or None
    scoped = f"{g.user.id}:{key}" if key else None
    case, created = services.create_case(data, g.actor, idempotency_key=scoped)
    resp = jsonify(_detail.dump(case))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/cases/{case.number}"
    return resp


@api.get("/cases")
@login_required(*STAFF)
def list_cases():
    args = query_args(CaseListQuerySchema())
    query = select(Case)
    if g.actor.role == Role.HANDLER:
        query = query.where(Case.department_code == g.actor.department_code)
    if "status" in args:
        query = query.where(Case.status == args["status"])
    if "line" in args:
        query = query.join(Line, Case.line_id == Line.id).where(Line.code == args["line"])
    if "category" in args:
        query = query.join(Category, Case.category_id == Category.id).where(
            Category.code == args["category"])
    for key, column in (("department", Case.department_code), ("channel", Case.channel),
                        ("kind", Case.kind), ("supervised", Case.supervised)):
        if key in args:
            query = query.where(column == args[key])
    if "region" in args:
        query = query.where(Case.region.startswith(region_prefix(args["region"])))
    if "topic" in args:
        query = query.where(or_(Case.topic1 == args["topic"], Case.topic2 == args["topic"],
                                Case.topic3 == args["topic"]))
    if "overdue" in args:
        now = dt.datetime.now(dt.UTC)
        open_with_clock = Case.status.in_([Status.RECEIVED, Status.DISPATCHED, Status.ACCEPTED,
                                           Status.RETURNED, Status.REOPENED, Status.REPLIED])
        late = open_with_clock & (Case.due_at < now)
        query = query.where(late if args["overdue"] else ~late)
    if "due_before" in args:
        query = query.where(Case.due_at <= end_of_day(args["due_before"]))
    if "received_from" in args:
        start = dt.datetime.combine(args["received_from"], dt.time(), tzinfo=PROVINCE_TZ)
        query = query.where(Case.received_at >= start)
    if "received_to" in args:
        query = query.where(Case.received_at <= end_of_day(args["received_to"]))
    if "q" in args:
        words = args["q"].split()
        for word in words:
            pattern = f"%{word}%"
            query = query.where(or_(Case.content.like(pattern), Case.number.like(pattern),
                                    Case.citizen_enterprise.like(pattern)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(
        query.order_by(Case.received_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return jsonify({"items": _case.dump(rows, many=True), "page": page, "per_page": per_page,
                    "total": total})


@api.get("/cases/<number>")
@login_required(*STAFF)
def get_case(number: str):
    return jsonify(_detail.dump(services.get_case(number, g.actor)))


@api.post("/cases/<number>/<action>")
@login_required(*STAFF)
def case_action(number: str, action: str):
    if action not in ACTIONS:
        raise NotFound(f"no action '{action}'; actions are: {', '.join(ACTIONS)}")
    # Whether the case exists (and is visible) is said before what is wrong with the body.
    services.get_case(number, g.actor)
    body = json_body(ACTION_SCHEMAS[action]())
    case = services.act(number, action, g.actor, body)
    return jsonify(_detail.dump(case))
