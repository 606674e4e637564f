"""Calls in the staff API: operators log the calls they answer, see the lines' calls, read the
call figures, and answer on the spot (即时答复) from the answers given before.

    GET  /api/v1/calls                      the calls, newest first (line, outcome, dates...)
    GET  /api/v1/calls/<CallSid>            one call
    POST /api/v1/calls/<CallSid>/case       log an answered call: a new case, or join an
                                            existing one (`case`); with `answer`, 即时答复
    GET  /api/v1/calls/figures              offered, answered within 15 s, abandoned,
                                            missed-call call-backs done... per line
    GET  /api/v1/knowledge?q=               earlier answers matching the words of a question

The call rows are written by the phone channel from Twilio's webhooks; `call_figures` is what
the reports read.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from .. import filing, paging
from ..domain import phones
from ..domain.deadlines import PROVINCE_TZ, end_of_day, local_date
from ..domain.errors import NotFound, ValidationFailed
from ..domain.lifecycle import CENTRE, Kind
from ..extensions import db
from ..knowledge import search_answers
from ..models import Call, Line
from ..models.calls import Outcome, Stage
from ..models.types import utcnow
from ..reports.phone import ANSWER_TARGET_SECONDS, call_figures
from . import api
from .auth import login_required
from .schemas import (
    MAX_PAGE,
    CaseDetailSchema,
    CitizenSchema,
    Day,
    LocalDateTime,
    StrictSchema,
    page_schema,
)
from .util import json_body, query_args

logger = logging.getLogger(__name__)

CALL_STAFF = CENTRE
#: GB/T 33358: a call should be answered within 15 seconds.
REGION = validate.Regexp(r"^\d{6}(\d{3}|\d{6})?$", error="Must be an administrative division "
                         "code of 6, 9 or 12 digits.")


# --- schemas -------------------------------------------------------------------------------

class CallSchema(Schema):
    call_sid = fields.String()
    direction = fields.String()
    line = fields.Function(lambda c: c.line.code)
    from_number = fields.String(data_key="from", allow_none=True)
    to_number = fields.String(data_key="to", allow_none=True)
    started_at = LocalDateTime()
    after_hours = fields.Boolean()
    stage = fields.String()
    outcome = fields.String(allow_none=True)
    enqueued_at = LocalDateTime(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)
    ended_at = LocalDateTime(allow_none=True)
    queue_seconds = fields.Integer(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    answered_within_target = fields.Method("get_within_target")
    recording = fields.Method("get_recording")
    case = fields.Function(lambda c: c.case.number if c.case else None)
    logged_by = fields.String(allow_none=True)
    logged_at = LocalDateTime(allow_none=True)

    def get_within_target(self, call: Call) -> bool | None:
        if call.outcome != Outcome.ANSWERED or call.queue_seconds is None:
            return None
        return call.queue_seconds <= ANSWER_TARGET_SECONDS

    def get_recording(self, call: Call) -> dict | None:
        if not call.recording_sid:
            return None
        return {"sid": call.recording_sid, "url": call.recording_url,
                "seconds": call.recording_seconds}


class CallListQuerySchema(StrictSchema):
    line = fields.String(validate=validate.Length(max=32))
    outcome = fields.String(validate=validate.OneOf([o.value for o in Outcome] + ["none"]))
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    phone = fields.String(validate=validate.Length(min=3, max=32))
    logged = fields.Boolean()
    after_hours = fields.Boolean()
    received_from = Day(data_key="from")
    received_to = Day(data_key="to")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CallLogSchema(StrictSchema):
    """Log a call: `case` to join an existing case, or the new case's fields."""

    case = fields.String(validate=validate.Length(min=1, max=32))
    category = fields.String(allow_none=True, validate=validate.Length(max=32))
    content = fields.String(validate=validate.Length(max=20000))
    kind = fields.String(validate=validate.OneOf([Kind.HANDLE.value, Kind.INFORM.value,
                                                  Kind.INSTANT.value]))
    citizen = fields.Nested(CitizenSchema)
    region = fields.String(allow_none=True, validate=REGION)
    public_consent = fields.Boolean()
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    # 即时答复: the answer given on the phone; the case is then `answered`.
    answer = fields.String(validate=validate.Length(min=1, max=20000))
    # The earlier case whose answer was reused (from /knowledge), kept on the timeline.
    knowledge_case = fields.String(validate=validate.Length(min=1, max=32))
    # A new case dispatched at once to this department (not with `answer`).
    department = fields.String(validate=validate.Length(min=1, max=32))

    @validates_schema
    def one_way(self, data: dict, **kwargs: Any) -> None:
        if "case" in data:
            extra = sorted(set(data) - {"case", "note", "answer", "knowledge_case"})
            if extra:
                raise ValidationError({k: ["Not allowed when joining an existing case."]
                                       for k in extra})
            return
        if not (data.get("content") or "").strip():
            raise ValidationError({"content": [("Give the content of a new case, or 'case' to "
                                               "join an existing one.")]})
        if data.get("department") and data.get("answer"):
            raise ValidationError({"department": [("A case answered on the spot is not "
                                                   "dispatched.")]})
        if data.get("kind") == Kind.INFORM and data.get("answer"):
            raise ValidationError({"answer": [("A 转阅件 (inform) case is not answered on the "
                                              "spot.")]})


class FiguresQuerySchema(StrictSchema):
    line = fields.String(validate=validate.Length(max=32))
    date_from = Day(data_key="from")
    date_to = Day(data_key="to")

    @validates_schema
    def ordered(self, data: dict, **kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError({"from": ["Must not be after 'to'."]})


class KnowledgeQuerySchema(StrictSchema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line = fields.String(validate=validate.Length(max=32))
    category = fields.String(validate=validate.Length(max=32))
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


_call = CallSchema()
_detail = CaseDetailSchema()


# --- calls ---------------------------------------------------------------------------------

def _find_call(call_sid: str) -> Call:
    call = filing.find_call(call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    return call


@api.get("/calls")
@login_required(*CALL_STAFF)
def list_calls():
    args = query_args(CallListQuerySchema())
    query = select(Call)
    if "line" in args:
        query = query.join(Line, Call.line_id == Line.id).where(Line.code == args["line"])
    if "outcome" in args:
        query = query.where(Call.outcome.is_(None) if args["outcome"] == "none"
                            else Call.outcome == args["outcome"])
    if "stage" in args:
        query = query.where(Call.stage == args["stage"])
    if "phone" in args:
        # Twilio writes every caller as E.164; the operator may type any spelling, or the end.
        query = query.where(Call.from_number.like(f"%{phones.key(args['phone'])}"))
    if "logged" in args:
        query = query.where(Call.case_id.is_not(None) if args["logged"] else Call.case_id.is_(None))
    if "after_hours" in args:
        query = query.where(Call.after_hours.is_(args["after_hours"]))
    if "received_from" in args:
        query = query.where(Call.started_at >= _day_start(args["received_from"]))
    if "received_to" in args:
        query = query.where(Call.started_at <= end_of_day(args["received_to"]))
    page, per_page = args["page"], args["per_page"]
    rows, total = paging.page_of(query.order_by(Call.started_at.desc(), Call.id.desc()),
                                 page, per_page)
    return jsonify({"items": _call.dump(rows, many=True), "page": page, "per_page": per_page,
                    "total": total})


@api.get("/calls/<call_sid>")
@login_required(*CALL_STAFF)
def get_call(call_sid: str):
    return jsonify(_call.dump(_find_call(call_sid)))


@api.post("/calls/<call_sid>/case")
@login_required(*CALL_STAFF)
def log_call(call_sid: str):
    """The operator files the call: its record joins a new or an existing case."""
    call = _find_call(call_sid)
    data = json_body(CallLogSchema())
    key = request.headers.get("Idempotency-Key", "").strip() or None
    case, created = filing.log_call(call, data, g.actor, f"{g.user.id}:{key}" if key else None)
    resp = jsonify({"case": _detail.dump(case), "call": _call.dump(call)})
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/cases/{case.number}"
    return resp


# --- figures -------------------------------------------------------------------------------

def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PROVINCE_TZ)


@api.get("/calls/figures")
@login_required(*CALL_STAFF)
def figures():
    args = query_args(FiguresQuerySchema())
    today = local_date(utcnow())
    date_to = args.get("date_to") or today
    date_from = args.get("date_from") or date_to.replace(day=1)
    if date_from > date_to:
        raise ValidationFailed("the period is empty", {"from": ["Must not be after 'to'."]})
    if args.get("line") and db.session.scalar(select(Line).where(Line.code == args["line"])) \
            is None:
        raise NotFound(f"no line {args['line']}")
    return jsonify(call_figures(date_from, date_to, args.get("line")))


# --- knowledge: earlier answers (即时答复) ----------------------------------------------------


@api.get("/knowledge")
@login_required(*CALL_STAFF)
def knowledge():
    args = query_args(KnowledgeQuerySchema())
    terms, items = search_answers(args["q"], line=args.get("line"), category=args.get("category"),
                                  limit=args["limit"])
    return jsonify({"q": args["q"], "terms": terms, "items": items})


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/calls", "get", ("The lines' calls, newest first (filters: line, outcome, stage, phone, "
     "logged, after_hours, from, to)"), CallListQuerySchema, page_schema(CallSchema), ["calls"]),
    ("/calls/{call_sid}", "get", "One call", None, CallSchema, ["calls"]),
    ("/calls/{call_sid}/case", "post", ("Log an answered call: a new case, or join an existing "
     "one ('case'); 'answer' answers it on the spot (即时答复)"), CallLogSchema, None, ["calls"],
     (200, 201)),
    ("/calls/figures", "get", ("Phone figures of a period: offered, answered within 15 s, "
     "abandoned, missed-call call-backs"), FiguresQuerySchema, None, ["calls"]),
    ("/knowledge", "get", "Earlier answers matching a question's words (即时答复)", KnowledgeQuerySchema, None,
     ["calls"]),
]
