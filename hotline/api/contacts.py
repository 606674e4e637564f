"""Department contacts (`/api/v1/departments/<code>/contacts`): the mobile numbers, WeChat
openids and e-mail addresses a department is told on when a case is sent to it, reminded (催办)
or escalated (督办). Admins keep them; a department's own handlers and the supervisors may read
them. The notices are written by `workers.department_notices`."""

from __future__ import annotations

import re
from typing import Any

from flask import g, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import administration
from ..domain import phones
from ..domain.errors import NotFound
from ..domain.lifecycle import Role, can_see
from ..models import Department
from ..models.contacts import CONTACT_CHANNELS
from . import api
from .auth import login_required
from .schemas import LocalDateTime, StrictSchema
from .util import json_body

OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_email = validate.Email(error="Not a valid e-mail address.")


def normalized_address(channel: str, address: str) -> str:
    """The address as notices are sent to it, or ValidationError saying what is wrong."""
    address = address.strip()
    if channel == "sms":
        if not phones.is_mobile(address):
            raise ValidationError("An SMS contact must be a mobile number (11 digits, 1…).",
                                  "address")
        return phones.e164(address)
    if channel == "wechat":
        if not OPENID.match(address):
            raise ValidationError("Not a WeChat openid (16-64 letters, digits, - or _).",
                                  "address")
        return address
    _email(address)
    return address.lower() if address.count("@") == 1 else address


class ContactSchema(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(CONTACT_CHANNELS))
    address = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(validate=validate.Length(max=64), allow_none=True)
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _address(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "channel" in data and "address" in data:
            try:
                data["address"] = normalized_address(data["channel"], data["address"])
            except ValidationError as exc:
                raise ValidationError(exc.messages, "address") from None


class ContactUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(max=64), allow_none=True)
    active = fields.Boolean()


class ContactOutSchema(Schema):
    id = fields.Integer()
    department = fields.String(attribute="department_code")
    channel = fields.String()
    address = fields.String()
    name = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = LocalDateTime()


_out = ContactOutSchema()


def _department(code: str) -> Department:
    dep = administration.find_department(code)
    if not can_see(g.actor, code):  # a handler: its own department only
        raise NotFound(f"no department {code}")
    return dep


@api.get("/departments/<code>/contacts")
@login_required(Role.HANDLER, Role.SUPERVISOR)
def list_contacts(code: str):
    dep = _department(code)
    return jsonify({"department": dep.code,
                    "items": _out.dump(administration.contacts_of(dep), many=True)})


@api.post("/departments/<code>/contacts")
@login_required(Role.ADMIN)
def add_contact(code: str):
    dep = _department(code)
    contact = administration.add_contact(dep, json_body(ContactSchema()))
    return jsonify(_out.dump(contact)), 201


@api.patch("/departments/<code>/contacts/<int:contact_id>")
@login_required(Role.ADMIN)
def update_contact(code: str, contact_id: int):
    contact = administration.find_contact(_department(code), contact_id)
    contact = administration.update_contact(contact, json_body(ContactUpdateSchema()))
    return jsonify(_out.dump(contact))


@api.delete("/departments/<code>/contacts/<int:contact_id>")
@login_required(Role.ADMIN)
def remove_contact(code: str, contact_id: int):
    """Remove a contact; the notices already sent to it stay in the outbox's record."""
    administration.remove_contact(administration.find_contact(_department(code), contact_id))
    return "", 204


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/departments/{code}/contacts", "get",
     "A department's contacts for notices of new, reminded and escalated cases", None,
     Schema.from_dict({"department": fields.String(),
                       "items": fields.List(fields.Nested(ContactOutSchema))},
                      name="ContactListSchema"), ["admin"]),
    ("/departments/{code}/contacts", "post",
     ("Add a contact (sms: mobile number, wechat: openid, email: address) to be told of the "
      "department's new, reminded (催办) and escalated (督办) cases"), ContactSchema,
     ContactOutSchema, ["admin"]),
    ("/departments/{code}/contacts/{contact_id}", "patch", "Rename or pause a contact",
     ContactUpdateSchema, ContactOutSchema, ["admin"]),
    ("/departments/{code}/contacts/{contact_id}", "delete", "Remove a contact", None, None,
     ["admin"]),
]
