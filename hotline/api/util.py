"""Small helpers shared by the API views."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from ..domain.errors import ValidationFailed


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object, validated by `schema`; anything else is a 400 naming why."""
    if not request.data:
        payload: Any = {}
    else:
        if not request.is_json:
            raise ValidationFailed("send the body as JSON (Content-Type: application/json)")
        payload = request.get_json(silent=True)
        if payload is None:
            raise ValidationFailed("the body is not valid JSON")
    if not isinstance(payload, dict):
        raise ValidationFailed("the body must be a JSON object")
    return schema.load(payload, partial=partial)


def query_args(schema: Schema) -> dict[str, Any]:
    args = {k: v for k, v in request.args.items() if v != ""}
    return schema.load(args)
