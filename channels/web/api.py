"""The public JSON API (docs/channels.md, docs/followup.md), no login: a citizen's case status by number and phone tail,
writing a web message, the board, and survey answers by the signed link.

    GET  /api/v1/public/cases/<number>?phone_tail=NNNN   (or ?phone=<whole number>)
    POST /api/v1/public/messages
    GET  /api/v1/public/board            GET /api/v1/public/board/<number>
    GET  /api/v1/public/lines
    GET  /api/v1/public/surveys/<token>  POST /api/v1/public/surveys/<token>

A JSON body needs ``Content-Type: application/json``, which a cross-site HTML form cannot send
without the browser asking first (CORS), so these endpoints need no CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import ValidationError, fields, validate, validates_schema

from hotline.api.errors import error_response
from hotline.api.schemas import REGION, Day, StrictSchema, _text
from hotline.api.util import json_body, query_args
from hotline.domain.errors import NotFound
from hotline.extensions import db
from hotline.publication import case_answer, mask_case_text
from hotline.surveys import RATINGS, record_answer, survey_from_token

from . import intake, public
from .public import PHONE_TAIL, WHOLE_PHONE, BoardFilters
from .security import RateLimited, check_limit

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")

NOT_FOUND = "没有找到编号与电话后四位相符的工单"


class StatusQuery(StrictSchema):
    phone_tail = fields.String(validate=validate.Regexp(
        PHONE_TAIL.pattern, error="The last four digits of the phone number."))
    # Asked for instead of the tail once the number's look-ups failed too often (403
    # phone_required); always accepted.
    phone = fields.String(validate=validate.Regexp(
        WHOLE_PHONE.pattern, error="The whole phone number, e.g. 13985012345."))

    @validates_schema
    def tail_or_phone(self, data: dict, **kwargs: Any) -> None:
        if not data.get("phone_tail") and not data.get("phone"):
            raise ValidationError("The last four digits of the phone number.", "phone_tail")


class BoardQuery(StrictSchema):
    q = _text(100)
    line = _text(32)
    category = _text(32)
    topic = _text(64)
    region = fields.String(validate=REGION)
    date_from = Day(data_key="from")
    date_to = Day(data_key="to")
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class SurveyAnswerSchema(StrictSchema):
    rating = fields.String(required=True, validate=validate.OneOf(list(RATINGS)))
    comment = _text(500, allow_none=True)


@bp.errorhandler(RateLimited)
def rate_limited(exc: RateLimited):
    db.session.rollback()
    resp, status = error_response(429, exc.code, exc.message)
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp, status


@bp.get("/cases/<number>")
def case_status(number: str):
    check_limit("status")
    args = query_args(StatusQuery())
    number = public.normalize_number(number)[:40]
    # Failures count per number too, from whatever address (public.find_own_case).
    case = public.find_own_case(number, args.get("phone_tail"), args.get("phone"))
    if case is None:
        raise NotFound(NOT_FOUND)
    return jsonify(public.citizen_view(case))


@bp.post("/messages")
def post_message():
    check_limit("write_attempt")
    message = json_body(intake.WebMessageSchema())
    check_limit("write")
    key = request.headers.get("Idempotency-Key", "").strip()[:100] or None
    case, created = intake.submit(message, idempotency_key=f"web-api:{key}" if key else None)
    body = {
        "number": case.number,
        "status": case.status,
        "status_label": public.status_label(case.status),
        "received_at": public.local_instant(case.received_at),
        "status_url": f"/status?number={case.number}",
        "message": f"留言已收到，工单编号 {case.number}。凭编号和电话后四位可查询办理进度。",
    }
    resp = jsonify(body)
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = f"/api/v1/public/cases/{case.number}"
    return resp


@bp.get("/board")
def board():
    check_limit("board")
    args = query_args(BoardQuery())
    f = BoardFilters(**{k: v for k, v in args.items()})
    return jsonify(public.board_page(f))


@bp.get("/board/<number>")
def board_case(number: str):
    check_limit("board")
    pub = public.published(number)
    if pub is None:
        raise NotFound(f"no published case {number}")
    return jsonify(public.published_view(pub))


@bp.get("/lines")
def lines():
    return jsonify({"items": public.lines_with_categories()})


def _survey(token: str) -> Any:
    survey = survey_from_token(token)
    if survey is None:
        raise NotFound("no such survey")
    return survey


def _survey_json(survey: Any) -> dict[str, Any]:
    case = survey.case
    return {
        "number": case.number,
        "line_name": case.line.name,
        "received_date": public.local_day(case.received_at),
        "closed_date": public.local_day(case.closed_at),
        "question": mask_case_text(case, case.content),
        "answer": mask_case_text(case, case_answer(case)),
        "ratings": RATINGS,
        "answered": survey.answered_at is not None,
        # The case was reopened before this survey was answered: an answer is refused (409).
        "closed": survey.superseded_at is not None and survey.answered_at is None,
        "rating": survey.rating,
    }


@bp.get("/surveys/<token>")
def get_survey(token: str):
    return jsonify(_survey_json(_survey(token)))


@bp.post("/surveys/<token>")
def answer_survey(token: str):
    check_limit("survey")
    survey = _survey(token)
    body = json_body(SurveyAnswerSchema())
    comment = (body.get("comment") or "").strip() or None
    record_answer(survey, body["rating"], comment, "web")  # a second answer is a 409
    db.session.commit()
    return jsonify(_survey_json(survey))


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/public/cases/{number}", "get", ("A citizen's case status: number and ?phone_tail=NNNN; a "
     "wrong tail is answered exactly like a number that does not exist. Once the number's "
     "look-ups failed too often (from anyone), the tail is not enough: 403 phone_required, "
     "and ?phone=<the whole number> opens it"), StatusQuery, None, ["public"], (200,),
     {403: "phone_required: send the whole phone number (?phone=) instead of the tail"}),
    ("/public/messages", "post", ("Write a web message (网上留言); Idempotency-Key makes retries "
     "safe"), intake.WebMessageSchema, None, ["public"], (200, 201)),
    ("/public/board", "get", ("Published cases with their answers, masked; filters q, line, "
     "category, topic, region, from, to"), BoardQuery, None, ["public"]),
    ("/public/board/{number}", "get", "One published case", None, None, ["public"]),
    ("/public/lines", "get", "Lines and categories one can write to", None, None, ["public"]),
    ("/public/surveys/{token}", "get", "The survey behind a signed link", None, None,
     ["public"]),
    ("/public/surveys/{token}", "post", ("Answer the survey: satisfied, basically_satisfied, "
     "unsatisfied"), SurveyAnswerSchema, None, ["public"]),
]
