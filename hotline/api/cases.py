"""Cases: intake, list, one case with its timeline, and the lifecycle actions."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request
from sqlalchemy import func, select

from .. import attachments, services
from ..domain.lifecycle import ACTIONS, CENTRE, STAFF, Priority
from ..extensions import db
from ..models import Case
from ..reports.scope import case_list_conditions
from . import api
from .auth import login_required
from .schemas import (
    ACTION_SCHEMAS,
    CaseCorrectionSchema,
    CaseCreateSchema,
    CaseDetailSchema,
    CaseListQuerySchema,
    CaseSchema,
)
from .util import json_body, query_args

_case = CaseSchema()
_detail = CaseDetailSchema()


@api.post("/cases")
@login_required(*CENTRE)
def create_case():
    data = json_body(CaseCreateSchema())
    key = request.headers.get("Idempotency-Key", "").strip() or None
    scoped = f"{g.user.id}:{key}" if key else None
    case, created = services.create_case(data, g.actor, idempotency_key=scoped)
    resp = jsonify(_detail.dump(case))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/cases/{case.number}"
    return resp


# Cases without a deadline (即时答复) come last whichever way deadlines are sorted.
LIST_ORDER = {
    "-received": (Case.received_at.desc(), Case.id.desc()),
    "received": (Case.received_at, Case.id),
    "due": (Case.due_key, Case.id),  # walks ix_cases_status_due_key and the like
    "-due": (Case.due_at.is_(None), Case.due_at.desc(), Case.id.desc()),
}
# Work queues (the operators' and the department's desk) take 紧急件 first, then LIST_ORDER.
URGENT_FIRST = (Case.priority != Priority.URGENT,)


@api.get("/cases")
@login_required(*STAFF)
def list_cases():
    args = query_args(CaseListQuerySchema())
    query = select(Case).where(*case_list_conditions(args, g.actor, dt.datetime.now(dt.UTC)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(
        query.order_by(*LIST_ORDER[args["sort"]]).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return jsonify({"items": _case.dump(rows, many=True), "page": page, "per_page": per_page,
                    "total": total})


@api.get("/cases/<number>")
@login_required(*STAFF)
def get_case(number: str):
    return jsonify(_detail.dump(services.get_case(number, g.actor)))


@api.patch("/cases/<number>")
@login_required(*STAFF)
def correct_case(number: str):
    """Correct intake's category, region, citizen details or content (operators, supervisors,
    admins: `lifecycle.CORRECTORS`), with the version read; recorded on the timeline."""
    services.get_case(number, g.actor)
    body = json_body(CaseCorrectionSchema())
    case, _changed = services.correct_case(number, g.actor, body)
    return jsonify(_detail.dump(case))


# Only the actions are routes: OPTIONS on another path under a case (its surveys) does not
# offer POST, and the OpenAPI document lists exactly these.
@api.post(f"/cases/<number>/<any({', '.join(repr(a) for a in ACTIONS)}):action>")
@login_required(*STAFF)
def case_action(number: str, action: str):
    # Whether the case exists (and is visible) is said before what is wrong with the body.
    services.get_case(number, g.actor)
    body = json_body(ACTION_SCHEMAS[action]())
    case = services.act(number, action, g.actor, body)
    return jsonify(_detail.dump(case))


@api.get("/cases/<number>/attachments/<int:attachment_id>")
@login_required(*STAFF)
def case_attachment(number: str, attachment_id: int):
    """One file of a case (a reply's document, a citizen's photo), scoped like the case."""
    item, path = attachments.file_of(services.get_case(number, g.actor), attachment_id)
    return attachments.send(item, path)
