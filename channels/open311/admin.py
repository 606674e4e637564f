"""The admin's side of Open311: issuing, listing and revoking client API keys.

    POST   /api/v1/open311/keys          {"name", "contact"} → the key, shown once
    GET    /api/v1/open311/keys
    DELETE /api/v1/open311/keys/<id>     revoke (the row stays, for the record)
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, jsonify
from marshmallow import fields, validate
from sqlalchemy import select

from hotline.api.auth import login_required
from hotline.api.schemas import StrictSchema, _text
from hotline.api.util import json_body
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.lifecycle import Role
from hotline.extensions import db

from . import keys
from .keys import issue_key
from .models import Open311ApiKey

bp = Blueprint("open311_admin", __name__, url_prefix="/api/v1/open311")


class KeyCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    contact = _text(200, allow_none=True)


def _instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(PROVINCE_TZ).isoformat() if value else None


def key_json(key: Open311ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "contact": key.contact, "prefix": key.key_prefix,
            "active": key.active, "created_at": _instant(key.created_at),
            "created_by": key.created_by, "last_used_at": _instant(key.last_used_at),
            "revoked_at": _instant(key.revoked_at), "revoked_by": key.revoked_by}


@bp.post("/keys")
@login_required(Role.ADMIN)
def create_key():
    body = json_body(KeyCreateSchema())
    key, secret = issue_key(body["name"], body.get("contact"), g.user.name)
    resp = jsonify({**key_json(key), "api_key": secret})
    resp.status_code = 201
    return resp


@bp.get("/keys")
@login_required(Role.ADMIN)
def list_keys():
    keys = db.session.scalars(select(Open311ApiKey).order_by(Open311ApiKey.id))
    return jsonify({"items": [key_json(k) for k in keys]})


@bp.delete("/keys/<int:key_id>")
@login_required(Role.ADMIN)
def revoke_key(key_id: int):
    return jsonify(key_json(keys.revoke_key(keys.find_key(key_id), g.user.name)))


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/open311/keys", "post", ("Issue an Open311 API key to a client application (admin); the "
     "key is in this answer only"), KeyCreateSchema, None, ["open311"], (201,)),
    ("/open311/keys", "get", "List Open311 API keys (admin)", None, None, ["open311"]),
    ("/open311/keys/{key_id}", "delete", "Revoke an Open311 API key (admin)", None, None,
     ["open311"]),
]
