"""Supervision and follow-up for staff: the supervisor's lists (overdue, due soon, unsatisfied,
dead letters), the points ledger, the operators' call-back tasks, surveys of a case, and every
outward message of a case (`GET /api/v1/outbox?case=<number>`).

The sweeps and the relay that fill these lists run in `workers/`; here they are read and acted
on. Handlers see only their own department's cases, as everywhere in the staff API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select

from .. import outbox, paging, services, supervision, surveys
from ..domain.deadlines import PROVINCE_TZ, local_date
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.lifecycle import CENTRE, STAFF, Role
from ..extensions import db
from ..models import CallbackTask, Case, OutboxMessage, Survey
from ..models.types import utcnow
from ..supervision import MARK_KINDS, current_marks
from . import api
from .auth import login_required
from .schemas import MAX_PAGE, CaseSchema, Day, LocalDateTime, StrictSchema, page_schema
from .util import json_body, query_args

DESK = CENTRE
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead", "unknown", "cancelled")

_case = CaseSchema()


# -- schemas ----------------------------------------------------------------------------------

class PageQuery(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class DeadlineListQuery(PageQuery):
    department = fields.String(validate=validate.Length(max=32))
    line = fields.String(validate=validate.Length(max=32))
    supervised = fields.Boolean()


class DueSoonQuery(DeadlineListQuery):
    # Working days ahead; the default is the usual reminder lead (催办 2 working days before).
    within = fields.Integer(load_default=2, validate=validate.Range(min=0, max=30))


class UnsatisfiedQuery(PageQuery):
    handled = fields.Boolean(load_default=False)


class OutboxQuery(PageQuery):
    case = fields.String(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES))
    purpose = fields.String(validate=validate.Length(max=16))
    channel = fields.String(validate=validate.Length(max=16))


class DeadLetterQuery(PageQuery):
    channel = fields.String(validate=validate.Length(max=16))


class CallbackQuery(PageQuery):
    status = fields.String(load_default="open",
                           validate=validate.OneOf(("open", "done", "cancelled", "all")))
    kind = fields.String(validate=validate.Length(max=16))
    line = fields.String(validate=validate.Length(max=32))


class PointsQuery(StrictSchema):
    department = fields.String(validate=validate.Length(max=32))
    from_ = Day(data_key="from")
    to = Day()


class NoteBody(StrictSchema):
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)


class HandledBody(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ResolveBody(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("sent", "cancelled")))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CallbackDoneBody(StrictSchema):
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)
    # For a survey call-back: what the citizen said (满意 / 基本满意 / 不满意).
    rating = fields.String(validate=validate.OneOf(tuple(surveys.RATINGS)))
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)
    # The citizen could not be reached or declined: the task is closed without an answer.
    reached = fields.Boolean(load_default=True)


class OutboxItemSchema(Schema):
    id = fields.Integer()
    case = fields.Function(lambda m: m.case.number if m.case else None)
    channel = fields.String()
    purpose = fields.String()
    recipient = fields.String(allow_none=True)
    text = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    next_attempt_at = LocalDateTime(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    handled_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class SurveySchema(Schema):
    id = fields.Integer()
    case = fields.Function(lambda s: s.case.number)
    round = fields.Integer()
    channel = fields.String()
    recipient = fields.String(allow_none=True)
    sent_at = LocalDateTime()
    reminded_at = LocalDateTime(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)
    rating = fields.String(allow_none=True)
    label = fields.Function(lambda s: surveys.RATINGS.get(s.rating) if s.rating else None)
    comment = fields.String(allow_none=True)
    answer_channel = fields.String(allow_none=True)
    handled_at = LocalDateTime(allow_none=True)
    superseded_at = LocalDateTime(allow_none=True)


class UnsatisfiedSchema(SurveySchema):
    department = fields.Function(lambda s: s.case.department_code)
    case_status = fields.Function(lambda s: s.case.status)
    content = fields.Function(lambda s: s.case.content)
    reply_text = fields.Function(lambda s: s.case.reply_text or s.case.answer_text)


class CallbackSchema(Schema):
    id = fields.Integer()
    case = fields.Function(lambda t: t.case.number if t.case else None)
    kind = fields.String()
    phone = fields.String(allow_none=True)
    line = fields.String(attribute="line_code", allow_none=True)
    reason = fields.String(allow_none=True)
    status = fields.String()
    created_at = LocalDateTime()
    done_at = LocalDateTime(allow_none=True)
    done_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


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
_callback = CallbackSchema()
_points = PointsEntrySchema()


# -- helpers ----------------------------------------------------------------------------------

def _page(query: Select, args: dict[str, Any], dump: Any) -> dict[str, Any]:
    rows, total = paging.page_of(query, args["page"], args["per_page"])
    return {"items": dump(rows), "page": args["page"], "per_page": args["per_page"],
            "total": total}


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
    return jsonify(_page(query, args, lambda rows: _with_marks(rows, local_date(now))))


@api.get("/supervision/due-soon")
@login_required(*STAFF)
def due_soon_cases():
    """Cases whose answer deadline falls within `within` working days (催办), soonest first."""
    args = query_args(DueSoonQuery())
    now = utcnow()
    today = local_date(now)
    query, last_day = supervision.due_soon_cases(now, args["within"])
    page = _page(_scoped(query, args), args, lambda rows: _with_marks(rows, today))
    page["until"] = last_day.isoformat()
    return jsonify(page)


@api.get("/supervision/unsatisfied")
@login_required(*supervision.SUPERVISORS)
def unsatisfied_answers():
    """不满意 answers waiting for a supervisor (who may reopen the case, 重办)."""
    args = query_args(UnsatisfiedQuery())
    query = supervision.unsatisfied_answers(args["handled"])
    return jsonify(_page(query, args, lambda rows: _unsatisfied.dump(rows, many=True)))


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
    return jsonify(_page(query, args, lambda rows: _outbox.dump(rows, many=True)))


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


# -- outward messages -------------------------------------------------------------------------

@api.get("/outbox")
@login_required(*STAFF)
def list_outbox():
    """Outward messages, oldest first; `case=<number>` gives every message of one case."""
    args = query_args(OutboxQuery())
    query = select(OutboxMessage)
    if args.get("case"):
        case = services.get_case(args["case"], g.actor)
        query = query.where(OutboxMessage.case_id == case.id)
    elif g.actor.role == Role.HANDLER:
        raise ValidationFailed("name the case", {"case": ["Required for a handler."]})
    for key, column in (("status", OutboxMessage.status), ("purpose", OutboxMessage.purpose),
                        ("channel", OutboxMessage.channel)):
        if args.get(key):
            query = query.where(column == args[key])
    query = query.order_by(OutboxMessage.created_at, OutboxMessage.id)
    return jsonify(_page(query, args, lambda rows: _outbox.dump(rows, many=True)))


def _message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    return message


@api.post("/outbox/<int:message_id>/retry")
@login_required(*DESK)
def retry_message(message_id: int):
    """Send a dead, unknown, failed or cancelled message again, now."""
    body = json_body(NoteBody())
    message = outbox.retry_message(_message(message_id), g.user.name, body.get("note"))
    db.session.commit()
    return jsonify(_outbox.dump(message))


@api.post("/outbox/<int:message_id>/resolve")
@login_required(*DESK)
def resolve_message(message_id: int):
    """Close a message by hand: confirmed `sent` (e.g. by phone), or `cancelled`."""
    body = json_body(ResolveBody())
    message = outbox.resolve_message(_message(message_id), body["outcome"], g.user.name,
                                     body["note"])
    db.session.commit()
    return jsonify(_outbox.dump(message))


# -- surveys and call-backs -------------------------------------------------------------------

@api.get("/cases/<number>/surveys")
@login_required(*STAFF)
def case_surveys(number: str):
    """The satisfaction surveys (回访) of a case, one per closing, oldest first."""
    case = services.get_case(number, g.actor)
    rows = db.session.scalars(select(Survey).where(Survey.case_id == case.id)
                              .order_by(Survey.round, Survey.id)).all()
    return jsonify({"case": case.number, "items": _survey.dump(rows, many=True)})


@api.get("/callbacks")
@login_required(*DESK)
def list_callbacks():
    """The operators' call-back tasks (回拨, 电话回访), oldest first."""
    args = query_args(CallbackQuery())
    query = select(CallbackTask)
    if args["status"] != "all":
        query = query.where(CallbackTask.status == args["status"])
    if args.get("kind"):
        query = query.where(CallbackTask.kind == args["kind"])
    if args.get("line"):
        query = query.where(CallbackTask.line_code == args["line"])
    query = query.order_by(CallbackTask.created_at, CallbackTask.id)
    return jsonify(_page(query, args, lambda rows: _callback.dump(rows, many=True)))


@api.post("/callbacks/<int:task_id>/done")
@login_required(*DESK)
def callback_done(task_id: int):
    """The call was made. For a survey call-back, `rating` records the citizen's answer."""
    body = json_body(CallbackDoneBody())
    task = db.session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound(f"no call-back task {task_id}")
    if task.status != "open":
        raise Conflict(f"this call-back task is {task.status} already")
    if body.get("rating") and not body["reached"]:
        raise ValidationFailed("a citizen who was not reached gave no rating",
                               {"rating": ["Not allowed when reached is false."]})
    if task.kind == "survey" and body["reached"] and task.case is not None:
        if not body.get("rating"):
            raise ValidationFailed("say how the citizen rated the handling",
                                   {"rating": ["Required for a survey call-back."]})
        survey = db.session.scalar(
            select(Survey).where(Survey.case_id == task.case_id, Survey.answered_at.is_(None),
                                 Survey.superseded_at.is_(None))
            .order_by(Survey.round.desc(), Survey.id.desc()).limit(1))
        if survey is None:
            raise Conflict("the survey of this case has been answered already")
        surveys.record_answer(survey, body["rating"], body.get("comment"), "phone", g.actor)
    elif body.get("rating"):
        raise ValidationFailed("only a survey call-back takes a rating",
                               {"rating": [f"Not allowed for a {task.kind} task."]})
    task.status = "done"
    task.done_at = utcnow()
    task.done_by = g.user.name
    note = body.get("note")
    task.note = note if body["reached"] else f"未接通：{note}" if note else "未接通"
    db.session.commit()
    return jsonify(_callback.dump(task))


# -- the OpenAPI document ---------------------------------------------------------------------

_CASE_PAGE = page_schema(SupervisedCaseSchema)
_OUTBOX_PAGE = page_schema(OutboxItemSchema)
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
     _OUTBOX_PAGE, ["supervision"]),
    ("/supervision/points", "get", "Departments' points ledger (积分) for a period", PointsQuery, None,
     ["supervision"]),
    ("/outbox", "get", "Outward messages; ?case=<number> for every message of a case", OutboxQuery,
     _OUTBOX_PAGE, ["follow-up"]),
    ("/outbox/{message_id}/retry", "post", "Send a message that did not go out again",
     NoteBody, OutboxItemSchema, ["follow-up"]),
    ("/outbox/{message_id}/resolve", "post", "Close a message by hand: sent or cancelled",
     ResolveBody, OutboxItemSchema, ["follow-up"]),
    ("/cases/{number}/surveys", "get", "Satisfaction surveys (回访) of a case", None, None,
     ["follow-up"]),
    ("/callbacks", "get", "Operators' call-back tasks", CallbackQuery, page_schema(CallbackSchema),
     ["follow-up"]),
    ("/callbacks/{task_id}/done", "post", "A call-back made (with the survey answer, if any)",
     CallbackDoneBody, CallbackSchema, ["follow-up"]),
]
