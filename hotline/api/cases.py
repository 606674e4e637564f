"""Cases: intake, list, one case with its timeline, and the lifecycle actions."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request

from .. import attachments, listing, services
from ..domain.lifecycle import ACTIONS, CENTRE, STAFF
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
_create = CaseCreateSchema()


@api.post("/cases")
@login_required(*CENTRE)
def create_case():
    data = json_body(_create)
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
    conditions = case_list_conditions(args, g.actor, dt.datetime.now(dt.UTC))
    found = listing.case_page(conditions, listing.LIST_ORDER[args["sort"]], sort=args["sort"],
                              page=args["page"], per_page=args["per_page"],
                              cursor=args.get("cursor"))
    return jsonify({"items": _case.dump(found.rows, many=True),
                    "page": None if "cursor" in args else args["page"],
                    "per_page": args["per_page"], "total": found.total,
                    "total_exact": found.total_exact, "next_cursor": found.next_cursor})


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
