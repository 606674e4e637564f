"""Staff API of the WeChat channel under /api/v1/wechat.

- `GET/POST /accounts`, `GET/PATCH /accounts/<code>` (admin): the official accounts, each with
  its webhook address, line and credentials. Credentials are write-only: answers say whether
  they are set, never what they are.
- `GET /messages?openid=…|case=…` (operator, supervisor): the messages a citizen sent and what
  the account answered, for staff following up a WeChat case.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from hotline.api.auth import login_required
from hotline.api.schemas import LocalDateTime, StrictSchema
from hotline.api.util import json_body, query_args
from hotline.domain import case_numbers
from hotline.domain.errors import NotFound, ValidationFailed
from hotline.domain.lifecycle import CENTRE, Role
from hotline.extensions import db
from hotline.models import Case

from .accounts import (
    DEFAULT_CODE,
    account_row,
    add_account,
    change_account,
    environment_account,
    valid_aes_key,
)
from .models import WeChatAccount, WeChatInbound

bp = Blueprint("wechat_api", __name__, url_prefix="/api/v1/wechat")

_CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,31}$",
                        error="Lower-case letters, digits, '-' and '_' (at most 32).")
_APPID = validate.Regexp(r"^wx[0-9A-Za-z]{14,30}$", error="Not a WeChat appid (wx…).")
# WeChat's console allows 3–32 letters and digits for the token.
_TOKEN = validate.Regexp(r"^[A-Za-z0-9]{3,32}$", error="3 to 32 letters and digits.")


class AccountUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    line = fields.String(validate=validate.Length(min=1, max=32))
    token = fields.String(validate=_TOKEN)
    secret = fields.String(allow_none=True, validate=validate.Length(min=1, max=128))
    aes_key = fields.String(allow_none=True)
    template_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    active = fields.Boolean()

    @validates_schema
    def check_aes_key(self, data: dict, **kwargs: Any) -> None:
        key = data.get("aes_key")
        if key is not None and not valid_aes_key(key):
            raise ValidationError("Must be the 43-character EncodingAESKey of the account.",
                                  "aes_key")


class AccountCreateSchema(AccountUpdateSchema):
    code = fields.String(required=True, validate=_CODE)
    appid = fields.String(required=True, validate=_APPID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    line = fields.String(required=True, validate=validate.Length(min=1, max=32))
    token = fields.String(required=True, validate=_TOKEN)


class MessagesQuerySchema(StrictSchema):
    openid = fields.String(validate=validate.Length(min=1, max=64))
    case = fields.String(validate=validate.Length(min=1, max=32))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MessageSchema(StrictSchema):
    account = fields.String(attribute="account_code")
    openid = fields.String()
    msg_type = fields.String()
    event = fields.String()
    msg_id = fields.String()
    create_time = LocalDateTime()
    received_at = LocalDateTime()
    intent = fields.String()
    reply = fields.String()


def _path(code: str) -> str:
    return "/channels/wechat" if code == DEFAULT_CODE else f"/channels/wechat/{code}"


def account_json(row: WeChatAccount) -> dict:
    return {
        "code": row.code, "name": row.name, "appid": row.appid, "line": row.line_code,
        "webhook_path": _path(row.code), "safe_mode": row.aes_key_enc is not None,
        "has_secret": row.secret_enc is not None, "template_id": row.template_id,
        "active": row.active, "source": "admin",
    }


def _environment_json() -> dict | None:
    env = environment_account()
    if env is None:
        return None
    return {"code": env.code, "name": env.name, "appid": env.appid, "line": env.line_code,
            "webhook_path": _path(env.code), "safe_mode": env.safe_mode,
            "has_secret": bool(env.secret), "template_id": env.template_id, "active": True,
            "source": "environment"}


@bp.get("/accounts")
@login_required(Role.ADMIN)
def list_accounts():
    items = [a for a in [_environment_json()] if a is not None]
    items += [account_json(r) for r in
              db.session.scalars(select(WeChatAccount).order_by(WeChatAccount.id))]
    return jsonify({"items": items})


@bp.post("/accounts")
@login_required(Role.ADMIN)
def create_account():
    row = add_account(json_body(AccountCreateSchema()), g.user.name)
    return jsonify(account_json(row)), 201


@bp.get("/accounts/<code>")
@login_required(Role.ADMIN)
def get_account(code: str):
    if code == DEFAULT_CODE and environment_account() is not None:
        return jsonify(_environment_json())
    return jsonify(account_json(account_row(code)))


@bp.patch("/accounts/<code>")
@login_required(Role.ADMIN)
def update_account(code: str):
    row = account_row(code)
    return jsonify(account_json(change_account(row, json_body(AccountUpdateSchema()),
                                               g.user.name)))




@bp.get("/messages")
@login_required(*CENTRE)
def list_messages():
    args = query_args(MessagesQuerySchema())
    query = select(WeChatInbound, Case.number).outerjoin(Case, Case.id == WeChatInbound.case_id)
    if args.get("case"):
        number = case_numbers.canonical(args["case"])
        case_id = db.session.scalar(select(Case.id).where(Case.number == number)) \
            if number else None
        if case_id is None:
            raise NotFound(f"no case {args['case']}")
        citizen = db.session.scalar(select(Case.citizen_openid).where(Case.id == case_id))
        # The whole conversation around the case: its messages and the citizen's queries.
        query = query.where((WeChatInbound.case_id == case_id)
                            | (WeChatInbound.openid == (citizen or "")))
    elif args.get("openid"):
        query = query.where(WeChatInbound.openid == args["openid"])
    else:
        raise ValidationFailed("give openid or case", {"openid": ["Give openid or case."]})
    rows = db.session.execute(
        query.order_by(WeChatInbound.received_at.desc(), WeChatInbound.id.desc())
        .limit(args["limit"])).all()
    schema = MessageSchema()
    items = []
    for inbound, number in rows:
        item = schema.dump(inbound)
        item["case"] = number
        items.append(item)
    return jsonify({"items": items})


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/wechat/accounts", "get", "WeChat official accounts (credentials never shown)", None,
     None, ["wechat"]),
    ("/wechat/accounts", "post", "Add a WeChat official account with its webhook address",
     AccountCreateSchema, None, ["wechat"], (201,)),
    ("/wechat/accounts/{code}", "get", "One WeChat official account", None, None,
     ["wechat"]),
    ("/wechat/accounts/{code}", "patch", "Change an account's line, credentials or state",
     AccountUpdateSchema, None, ["wechat"]),
    ("/wechat/messages", "get",
     "Messages a WeChat citizen sent (?openid= or ?case=) and the replies given",
     MessagesQuerySchema, None, ["wechat"]),
]
