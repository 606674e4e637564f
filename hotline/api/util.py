"""Small helpers shared by the API views."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import request
from marshmallow import Schema
from sqlalchemy import Select
from werkzeug.routing import IntegerConverter

from .. import paging
from ..domain.errors import ValidationFailed


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object, validated by `schema`; anything else is a 400 naming why."""
    if not request.data:
        payload: Any = {}
    else:
        if not request.is_json:
            raise ValidationFailed("send the body as JSON (Content-Type: application/json)")
        try:
            payload = request.get_json(silent=True)
        except RecursionError:  # '[[[[…' a hundred thousand deep: the parser gives up
            raise ValidationFailed("the body is not valid JSON: nested too deeply") from None
        if payload is None:
            raise ValidationFailed("the body is not valid JSON")
        if _LONE_SURROGATE.search(request.data) and not _encodable(payload):
            raise ValidationFailed("the body is not valid JSON: it holds a lone surrogate "
                                   "escape (such as \\ud800), which is no character")
    if not isinstance(payload, dict):
        raise ValidationFailed("the body must be a JSON object")
    return schema.load(payload, partial=partial)


# A JSON escape of half a UTF-16 pair; a whole pair (an emoji) decodes to one character and
# encodes as UTF-8, half of one cannot be stored or sent anywhere.
_LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _encodable(payload: Any) -> bool:
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def query_args(schema: Schema) -> dict[str, Any]:
    args = {k: v for k, v in request.args.items() if v != ""}
    return schema.load(args)


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a whole number a database integer can hold. A larger one is
    no id of anything (404), instead of a number the database driver cannot even send."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, 2**63 - 1 if max is None else max, signed)


def paged(query: Select, args: dict[str, Any], dump: Callable[[list], Any]) -> dict[str, Any]:
    """One page of a staff list (`page`, `per_page` from PageQuery) as the API answers it."""
    rows, total = paging.page_of(query, args["page"], args["per_page"])
    return {"items": dump(rows), "page": args["page"], "per_page": args["per_page"],
            "total": total}
