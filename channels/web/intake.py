"""A message written on the web (网上留言) becomes a case: validation, attachments, intake.

The HTML form and the public JSON API both end in `submit`. The citizen's phone is required:
the status look-up and the answer by SMS depend on it. A message to the 省长直通车 comes from an
enterprise, so it names the enterprise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy.exc import IntegrityError

from hotline import attachments, services
from hotline.api.schemas import REGION, StrictSchema
from hotline.attachments import Upload
from hotline.domain import phones
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Case
from hotline.models.types import clean_text

WEB_CITIZEN = Actor(name="citizen:web", role="citizen")

CONTENT_MIN, CONTENT_MAX = 10, 5000
TITLE_MAX = 40


class WebMessageSchema(StrictSchema):
    """A web message. Field names are the public API's; the form uses the same ones."""

    line = fields.String(load_default="board", validate=validate.Length(min=1, max=32))
    category = fields.String(required=True, validate=validate.Length(min=1, max=32))
    title = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=TITLE_MAX))
    content = fields.String(required=True, validate=validate.Length(max=CONTENT_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(required=True, validate=validate.Length(max=32))
    enterprise = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=200))
    region = fields.String(load_default=None, allow_none=True, validate=REGION)
    public_consent = fields.Boolean(load_default=False)

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        content = (data.get("content") or "").strip()
        if len(content) < CONTENT_MIN:
            errors["content"] = [f"请写清楚您反映的问题（至少 {CONTENT_MIN} 个字）。"]
        if not (data.get("name") or "").strip():
            errors["name"] = ["请填写姓名。"]
        if not phones.is_chinese(data.get("phone")):
            errors["phone"] = ["请填写正确的手机号码或带区号的固定电话。"]
        if data.get("line") == "zhitongche" and not (data.get("enterprise") or "").strip():
            errors["enterprise"] = ["省长直通车受理民营企业反映的问题，请填写企业名称。"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def tidy(self, data: dict, **kwargs: Any) -> dict:
        for key in ("title", "content", "name", "enterprise"):
            if data.get(key) is not None:
                data[key] = clean_text(data[key]).strip() or None
        data["phone"] = phones.e164(data["phone"])
        return data


class WebFormSchema(WebMessageSchema):
    """The HTML form: the same fields, and the browser's extras (the submit button, the form's
    own id) are ignored instead of refused."""

    class Meta:
        unknown = EXCLUDE


def case_data(message: dict) -> dict[str, Any]:
    """The core's intake body for a web message. A title the writer gave is the first line of
    the content: the case has no title field, and staff read it first either way."""
    content = message["content"]
    if message.get("title"):
        content = f"{message['title']}\n{content}"
    return {
        "line": message["line"],
        "channel": "web",
        "category": message["category"],
        "kind": "handle",
        "content": content,
        "citizen": {"name": message["name"], "phone": message["phone"],
                    "enterprise": message.get("enterprise")},
        "region": message.get("region"),
        "public_consent": message["public_consent"],
    }


def submit(message: dict, uploads: list[Upload] = (), *,
           idempotency_key: str | None = None) -> tuple[Case, bool]:
    """Log the message as a case, with its attachments, in one transaction.

    Returns (case, created); a replay of the same submission returns the first case.
    """
    data = case_data(message)
    try:
        case, created = services.create_case(data, WEB_CITIZEN, idempotency_key=idempotency_key,
                                             commit=False)
    except IntegrityError:
        db.session.rollback()
        if idempotency_key:  # a double click raced this request past the key's first check
            return services.create_case(data, WEB_CITIZEN, idempotency_key=idempotency_key)
        raise
    if not created:
        return case, False
    written: list[Path] = []
    try:
        written = attachments.store(case, list(uploads), WEB_CITIZEN,
                                    url=lambda item: f"/channels/web/attachments/{item.id}")
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        attachments.remove(written)
        if isinstance(exc, IntegrityError) and idempotency_key:
            # A double click raced this request; the first one's case is the answer for both.
            return services.create_case(data, WEB_CITIZEN, idempotency_key=idempotency_key)
        raise
    return case, True
