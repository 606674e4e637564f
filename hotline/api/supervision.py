"""The supervisor's lists for staff (督办台): overdue and due-soon cases with what the sweep did,
unsatisfied survey answers, dead letters, and the departments' points ledger. The outbox is in
hotline/api/outbox.py, surveys of a case and call-back tasks in hotline/api/followup.py.

The sweeps and the relay that fill these lists run in `workers/`; here they are read and acted
on. Handlers see only their own department's cases, as everywhere in the staff API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import Select

from .. import services, supervision
from ..domain.deadlines import PROVINCE_TZ, local_date
from ..domain.errors import NotFound
from ..domain.lifecycle import CENTRE, STAFF
from ..extensions import db
from ..models import Case, Survey
from ..models.types import utcnow
from ..supervision import MARK_KINDS, current_marks
from . import api
from .auth import login_required
from .followup import SurveySchema
from .outbox import OUTBOX_PAGE, OutboxItemSchema
from .schemas import CaseSchema, Day, LocalDateTime, PageQuery, StrictSchema, page_schema
from .util import json_body, paged, query_args

DESK = CENTRE

_case = CaseSchema()


# -- schemas ----------------------------------------------------------------------------------


class DeadlineListQuery(PageQuery):
    department = fields.String(validate=validate.Length(max=32))
    line = fields.String(validate=validate.Length(max=32))
    supervised = fields.Boolean()


class DueSoonQuery(DeadlineListQuery):
    # Working days ahead; the default is the usual reminder lead (催办 2 working days before).
    within = fields.Integer(load_default=2, validate=validate.Range(min=0, max=30))


class UnsatisfiedQuery(PageQuery):
    handled = fields.Boolean(load_default=False)



class DeadLetterQuery(PageQuery):
    channel = fields.String(validate=validate.Length(max=16))



class PointsQuery(StrictSchema):
    department = fields.String(validate=validate.Length(max=32))
    from_ = Day(data_key="from")
    to = Day()



class HandledBody(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))






class UnsatisfiedSchema(SurveySchema):
    department = fields.Function(lambda s: s.case.department_code)
    case_status = fields.Function(lambda s: s.case.status)
    content = fields.Function(lambda s: s.case.content)
    reply_text = fields.Function(lambda s: s.case.reply_text or s.case.answer_text)



class PointsEntrySchema(Schema):
    id = fields.Integer()
    department = fields.String(attribute="department_code")
    case = fields.Function(lambda p: p.case.number if p.case else None)
    reason = fields.String()
    points = fields.Integer()
    at = LocalDateTime()


class SupervisedCaseSchema(CaseSchema):
    """A case on a supervisor's list, with what the sweep did about its current deadline."""

    supervision = fields.Dict()


_outbox = OutboxItemSchema()
_survey = SurveySchema()
_unsatisfied = UnsatisfiedSchema()
_points = PointsEntrySchema()


# -- helpers ----------------------------------------------------------------------------------

def _scoped(query: Select, args: dict[str, Any]) -> Select:
    """Cases of the caller's department for a handler; the list's filters for the others."""
    return supervision.scoped(query, g.actor, args.get("department"), args.get("line"),
                              args.get("supervised"))


def _with_marks(cases: list[Case], today: dt.date) -> list[dict[str, Any]]:
    """Each case with the reminders and escalations of the deadlines it has now."""
    marks = current_marks(cases)
    calendar = services.work_calendar()
    items = []
    for case in cases:
        info: dict[str, Any] = {}
        for kind in MARK_KINDS:
            at = marks[case.id].get(kind)
            info[f"{kind}_at"] = at.astimezone(PROVINCE_TZ).isoformat() if at else None
        if case.due_date is not None:
            if case.due_date < today:
                info["working_days_overdue"] = calendar.working_days_between(case.due_date, today)
            else:
                info["working_days_left"] = calendar.working_days_between(today, case.due_date)
        items.append(_case.dump(case) | {"supervision": info})
    return items


# -- the supervisor's lists -------------------------------------------------------------------

@api.get("/supervision/overdue")
@login_required(*STAFF)
def overdue_cases():
    """Cases past their answer deadline with the clock still running (督办), most late first."""
    args = query_args(DeadlineListQuery())
    now = utcnow()
    query = _scoped(supervision.overdue_cases(now), args)
    return jsonify(paged(query, args, lambda rows: _with_marks(rows, local_date(now))))


@api.get("/supervision/due-soon")
@login_required(*STAFF)
def due_soon_cases():
    """Cases whose answer deadline falls within `within` working days (催办), soonest first."""
    args = query_args(DueSoonQuery())
    now = utcnow()
    today = local_date(now)
    query, last_day = supervision.due_soon_cases(now, args["within"])
    page = paged(_scoped(query, args), args, lambda rows: _with_marks(rows, today))
    page["until"] = last_day.isoformat()
    return jsonify(page)


@api.get("/supervision/unsatisfied")
@login_required(*supervision.SUPERVISORS)
def unsatisfied_answers():
    """不满意 answers waiting for a supervisor (who may reopen the case, 重办)."""
    args = query_args(UnsatisfiedQuery())
    query = supervision.unsatisfied_answers(args["handled"])
    return jsonify(paged(query, args, lambda rows: _unsatisfied.dump(rows, many=True)))


@api.post("/surveys/<int:survey_id>/handled")
@login_required(*supervision.SUPERVISORS)
def survey_handled(survey_id: int):
    """An unsatisfied answer dealt with without reopening (explained to the citizen, …)."""
    body = json_body(HandledBody())
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}")
    supervision.mark_handled(survey, g.actor, body["note"])
    db.session.commit()
    return jsonify(_survey.dump(survey))


@api.get("/supervision/dead-letters")
@login_required(*DESK)
def dead_letters():
    """Messages that did not go out: dead (gave up) and unknown (cut off, unverifiable)."""
    args = query_args(DeadLetterQuery())
    query = supervision.dead_letters(args.get("channel"))
    return jsonify(paged(query, args, lambda rows: _outbox.dump(rows, many=True)))


@api.get("/supervision/points")
@login_required(*supervision.SUPERVISORS)
def points_ledger():
    """The departments' points (积分) for a period: totals, lowest first, and the entries of
    one department when `department` is given."""
    args = query_args(PointsQuery())
    start, end = args.get("from_"), args.get("to")
    result: dict[str, Any] = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "departments": [{"department": d.department, "name": d.name, "points": d.points,
                         "entries": d.entries} for d in supervision.points_totals(start, end)],
    }
    if args.get("department"):
        result["entries"] = _points.dump(
            supervision.points_entries(args["department"], start, end), many=True)
    return jsonify(result)


# -- the OpenAPI document ---------------------------------------------------------------------

_CASE_PAGE = page_schema(SupervisedCaseSchema)
# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/supervision/overdue", "get", "Cases past their deadline (督办), with their reminders",
     DeadlineListQuery, _CASE_PAGE, ["supervision"]),
    ("/supervision/due-soon", "get", ("Cases due within `within` working days (催办); `until` "
     "is the last day counted"), DueSoonQuery, page_schema(
         SupervisedCaseSchema, "DueSoonPageSchema", until=fields.Date()), ["supervision"]),
    ("/supervision/unsatisfied", "get", "Unsatisfied survey answers for the supervisor", UnsatisfiedQuery,
     page_schema(UnsatisfiedSchema), ["supervision"]),
    ("/surveys/{survey_id}/handled", "post", "Mark an unsatisfied answer as dealt with",
     HandledBody, SurveySchema, ["supervision"]),
    ("/supervision/dead-letters", "get", "Messages that did not go out (dead, unknown)", DeadLetterQuery,
     OUTBOX_PAGE, ["supervision"]),
    ("/supervision/points", "get", "Departments' points ledger (积分) for a period", PointsQuery, None,
     ["supervision"]),
]
