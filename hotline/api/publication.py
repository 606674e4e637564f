"""The staff API of publication on the public board (公开); the rules are `hotline.publication`'s.

Operators and supervisors; approval is the supervisor's:

- ``GET  /api/v1/publications?state=candidate|draft|approved|withdrawn`` — the work list;
  candidates are closed, consented cases not on the board yet;
- ``GET  /api/v1/publications/<number>`` — the draft (stored or proposed), the originals, what
  masking found in them, and any personal data still in the draft;
- ``PUT  /api/v1/publications/<number>`` — edit title, question, answer;
- ``POST /api/v1/publications/<number>/approve`` and ``.../withdraw``.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from .. import services
from ..extensions import db
from ..models import Case, Publication
from ..publication import (
    APPROVERS,
    EDITORS,
    STATES,
    TEXT_FIELDS,
    TITLE_MAX,
    approve,
    commit,
    local_iso,
    propose,
    publication_json,
    publication_of,
    save_draft,
    withdraw,
    work_list,
)
from . import api
from .auth import login_required
from .schemas import MAX_PAGE, StrictSchema, _text
from .util import json_body, query_args


class PublicationListQuery(StrictSchema):
    state = fields.String(load_default="candidate", validate=validate.OneOf(STATES))
    line = _text(32)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PublicationEditSchema(StrictSchema):
    title = _text(TITLE_MAX)
    question = _text(20000)
    answer = _text(20000)
    note = _text(2000, allow_none=True)
    version = fields.Integer(validate=validate.Range(min=0))

    @validates_schema
    def something_to_change(self, data: dict, **kwargs: Any) -> None:
        if not any(name in data for name in TEXT_FIELDS):
            raise ValidationError("send at least one of title, question, answer")
        for name in TEXT_FIELDS:
            if name in data and not data[name].strip():
                raise ValidationError({name: ["Must not be empty."]})


class PublicationApproveSchema(StrictSchema):
    note = _text(2000, allow_none=True)
    version = fields.Integer(validate=validate.Range(min=0))
    confirm_remaining = fields.Boolean(load_default=False)


class PublicationWithdrawSchema(StrictSchema):
    reason = _text(2000, required=True)
    version = fields.Integer(validate=validate.Range(min=0))


def _item(case: Case, pub: Publication | None) -> dict:
    return {
        "number": case.number,
        "state": pub.state if pub else "none",
        "title": pub.title if pub else propose(case)["title"],
        "line": case.line.code,
        "category": case.category.code if case.category else None,
        "closed_at": local_iso(case.closed_at),
        "updated_at": local_iso(pub.updated_at) if pub else None,
        "version": pub.version if pub else 0,
    }


@api.get("/publications")
@login_required(*EDITORS)
def list_publications():
    args = query_args(PublicationListQuery())
    query = work_list(args["state"], args.get("line"))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    return jsonify({"items": [_item(case, pub) for case, pub in rows], "page": page,
                    "per_page": per_page, "total": total})


@api.get("/publications/<number>")
@login_required(*EDITORS)
def get_publication(number: str):
    case = services.get_case(number, g.actor)
    return jsonify(publication_json(case, publication_of(case)))


@api.put("/publications/<number>")
@login_required(*EDITORS)
def edit_publication(number: str):
    case = services.get_case(number, g.actor)
    body = json_body(PublicationEditSchema())
    changes = {name: body[name].strip() for name in TEXT_FIELDS if name in body}
    pub = save_draft(case, changes, g.actor, body.get("note"), body.get("version"))
    commit()
    return jsonify(publication_json(case, pub))


@api.post("/publications/<number>/approve")
@login_required(*APPROVERS)
def approve_publication(number: str):
    case = services.get_case(number, g.actor)
    body = json_body(PublicationApproveSchema())
    pub = approve(case, g.actor, body.get("note"), body.get("version"),
                  body["confirm_remaining"])
    commit()
    return jsonify(publication_json(case, pub))


@api.post("/publications/<number>/withdraw")
@login_required(*EDITORS)
def withdraw_publication(number: str):
    case = services.get_case(number, g.actor)
    body = json_body(PublicationWithdrawSchema())
    pub = withdraw(case, g.actor, body["reason"].strip(), body.get("version"))
    commit()
    return jsonify(publication_json(case, pub))


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/publications", "get", ("Publication work list: closed, consented cases not yet on the "
     "board (state=candidate), or drafts, approved, withdrawn"), PublicationListQuery, None, ["publication"]),
    ("/publications/{number}", "get", "The masked draft, the originals and what masking found",
     None, None, ["publication"]),
    ("/publications/{number}", "put", ("Edit the published title, question or answer (on the "
     "case's timeline)"), PublicationEditSchema, None, ["publication"]),
    ("/publications/{number}/approve", "post", "Approve the published version (supervisor)",
     PublicationApproveSchema, None, ["publication"]),
    ("/publications/{number}/withdraw", "post", "Take a case off the board",
     PublicationWithdrawSchema,
     None, ["publication"]),
]

