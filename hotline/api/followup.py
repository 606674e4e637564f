"""Follow-up for staff: the satisfaction surveys (回访) of a case and the operators' call-back
tasks (回拨, 电话回访) — a call made, with the citizen's rating when it was a survey call. The
surveys are opened and the tasks written by the follow-up (hotline/followup.py) and the phone
channel; here they are read and done."""

from __future__ import annotations

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from .. import services, surveys
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.lifecycle import CENTRE, STAFF
from ..extensions import db
from ..models import CallbackTask, Survey
from ..models.types import utcnow
from . import api
from .auth import login_required
from .schemas import LocalDateTime, PageQuery, StrictSchema, page_schema
from .util import json_body, paged, query_args


class CallbackQuery(PageQuery):
    status = fields.String(load_default="open",
                           validate=validate.OneOf(("open", "done", "cancelled", "all")))
    kind = fields.String(validate=validate.Length(max=16))
    line = fields.String(validate=validate.Length(max=32))

class CallbackDoneBody(StrictSchema):
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)
    # For a survey call-back: what the citizen said (满意 / 基本满意 / 不满意).
    rating = fields.String(validate=validate.OneOf(tuple(surveys.RATINGS)))
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)
    # The citizen could not be reached or declined: the task is closed without an answer.
    reached = fields.Boolean(load_default=True)

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

_survey = SurveySchema()
_callback = CallbackSchema()


@api.get("/cases/<number>/surveys")
@login_required(*STAFF)
def case_surveys(number: str):
    """The satisfaction surveys (回访) of a case, one per closing, oldest first."""
    case = services.get_case(number, g.actor)
    rows = db.session.scalars(select(Survey).where(Survey.case_id == case.id)
                              .order_by(Survey.round, Survey.id)).all()
    return jsonify({"case": case.number, "items": _survey.dump(rows, many=True)})


@api.get("/callbacks")
@login_required(*CENTRE)
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
    return jsonify(paged(query, args, lambda rows: _callback.dump(rows, many=True)))


@api.post("/callbacks/<int:task_id>/done")
@login_required(*CENTRE)
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


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/cases/{number}/surveys", "get", "Satisfaction surveys (回访) of a case", None, None,
     ["follow-up"]),
    ("/callbacks", "get", "Operators' call-back tasks", CallbackQuery, page_schema(CallbackSchema),
     ["follow-up"]),
    ("/callbacks/{task_id}/done", "post", "A call-back made (with the survey answer, if any)",
     CallbackDoneBody, CallbackSchema, ["follow-up"]),

]
