"""Every outward message for staff: `GET /api/v1/outbox` (`?case=<number>` for every message of
one case), and the centre's desk closing a message that did not go out — send it again, or
confirm it by hand. The relay that sends them runs in `workers/`; the dead letters are on the
supervisor's list (hotline/api/supervision.py)."""

from __future__ import annotations

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from .. import outbox, services
from ..domain.errors import NotFound, ValidationFailed
from ..domain.lifecycle import CENTRE, STAFF, Role
from ..extensions import db
from ..models import OutboxMessage
from . import api
from .auth import login_required
from .schemas import LocalDateTime, PageQuery, StrictSchema, page_schema
from .util import json_body, paged, query_args

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead", "unknown", "cancelled")


class OutboxQuery(PageQuery):
    case = fields.String(validate=validate.Length(min=1, max=32))
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES))
    purpose = fields.String(validate=validate.Length(max=16))
    channel = fields.String(validate=validate.Length(max=16))

class NoteBody(StrictSchema):
    note = fields.String(validate=validate.Length(max=2000), allow_none=True)

class ResolveBody(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(("sent", "cancelled")))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))

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

_outbox = OutboxItemSchema()
# A page of messages: the outbox's and the supervisor's dead letters (one schema, one name).
OUTBOX_PAGE = page_schema(OutboxItemSchema)


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
    return jsonify(paged(query, args, lambda rows: _outbox.dump(rows, many=True)))


def _message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    return message


@api.post("/outbox/<int:message_id>/retry")
@login_required(*CENTRE)
def retry_message(message_id: int):
    """Send a dead, unknown, failed or cancelled message again, now."""
    body = json_body(NoteBody())
    message = outbox.retry_message(_message(message_id), g.user.name, body.get("note"))
    db.session.commit()
    return jsonify(_outbox.dump(message))


@api.post("/outbox/<int:message_id>/resolve")
@login_required(*CENTRE)
def resolve_message(message_id: int):
    """Close a message by hand: confirmed `sent` (e.g. by phone), or `cancelled`."""
    body = json_body(ResolveBody())
    message = outbox.resolve_message(_message(message_id), body["outcome"], g.user.name,
                                     body["note"])
    db.session.commit()
    return jsonify(_outbox.dump(message))


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/outbox", "get", "Outward messages; ?case=<number> for every message of a case", OutboxQuery,
     OUTBOX_PAGE, ["follow-up"]),
    ("/outbox/{message_id}/retry", "post", "Send a message that did not go out again",
     NoteBody, OutboxItemSchema, ["follow-up"]),
    ("/outbox/{message_id}/resolve", "post", "Close a message by hand: sent or cancelled",
     ResolveBody, OutboxItemSchema, ["follow-up"]),
]
