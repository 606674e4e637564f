"""Department contacts (`/api/v1/departments/<code>/contacts`): the mobile numbers, WeChat
openids and e-mail addresses a department is told on when a case is sent to it, reminded (催办)
or escalated (督办). Admins keep them; a department's own handlers and the supervisors may read
them. The notices are written by `workers.department_notices`."""

from __future__ import annotations

import re
from typing import Any

from flask import g, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ..domain.errors import Conflict, NotFound
from ..domain.lifecycle import Role, can_see
from ..extensions import db
from ..models import Department, DepartmentContact
from ..models.contacts import CONTACT_CHANNELS
from ..phones import is_mobile, phone_e164
from . import api
from .auth import login_required
from .openapi import EXTRA_PATHS
from .schemas import LocalDateTime, StrictSchema
from .util import json_body

OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_email = validate.Email(error="Not a valid e-mail address.")


def normalized_address(channel: str, address: str) -> str:
    """The address as notices are sent to it, or ValidationError saying what is wrong."""
    address = address.strip()
    if channel == "sms":
        if not is_mobile(address):
            raise ValidationError("An SMS contact must be a mobile number (11 digits, 1…).",
                                  "address")
        return phone_e164(address)
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
    dep = db.session.scalar(select(Department).where(Department.code == code))
    if dep is None or not can_see(g.actor, code):  # a handler: its own department only
        raise NotFound(f"no department {code}")
    return dep


def _contact(code: str, contact_id: int) -> DepartmentContact:
    contact = db.session.get(DepartmentContact, contact_id)
    if contact is None or contact.department_code != _department(code).code:
        raise NotFound(f"no contact {contact_id} of department {code}")
    return contact


@api.get("/departments/<code>/contacts")
@login_required(Role.HANDLER, Role.SUPERVISOR)
def list_contacts(code: str):
    dep = _department(code)
    rows = db.session.scalars(select(DepartmentContact)
                              .where(DepartmentContact.department_code == dep.code)
                              .order_by(DepartmentContact.id)).all()
    return jsonify({"department": dep.code, "items": _out.dump(rows, many=True)})


@api.post("/departments/<code>/contacts")
@login_required(Role.ADMIN)
def add_contact(code: str):
    dep = _department(code)
    data = json_body(ContactSchema())
    exists = db.session.scalar(select(DepartmentContact).where(
        DepartmentContact.department_code == dep.code,
        DepartmentContact.channel == data["channel"],
        DepartmentContact.address == data["address"]))
    if exists is not None:
        raise Conflict("this department has this contact already",
                       {"address": [f"Contact {exists.id} has this address."]})
    contact = DepartmentContact(department_code=dep.code, **data)
    db.session.add(contact)
    db.session.commit()
    return jsonify(_out.dump(contact)), 201


@api.patch("/departments/<code>/contacts/<int:contact_id>")
@login_required(Role.ADMIN)
def update_contact(code: str, contact_id: int):
    contact = _contact(code, contact_id)
    for key, value in json_body(ContactUpdateSchema()).items():
        setattr(contact, key, value)
    db.session.commit()
    return jsonify(_out.dump(contact))


@api.delete("/departments/<code>/contacts/<int:contact_id>")
@login_required(Role.ADMIN)
def remove_contact(code: str, contact_id: int):
    """Remove a contact; the notices already sent to it stay in the outbox's record."""
    db.session.delete(_contact(code, contact_id))
    db.session.commit()
    return "", 204


EXTRA_PATHS.extend([
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
])
