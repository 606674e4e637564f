"""Routing rules through the API: an admin edits them; the next routing decision uses them."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from marshmallow import ValidationError, fields, validate, validates_schema

from .. import administration
from ..domain.lifecycle import CENTRE, Role
from ..models import RoutingRule
from . import api
from .auth import login_required
from .schemas import StrictSchema
from .util import json_body


class RuleSchema(StrictSchema):
    line = fields.String(allow_none=True, validate=validate.Length(max=32))
    category = fields.String(allow_none=True, validate=validate.Length(max=32))
    topic1 = fields.String(allow_none=True, validate=validate.Length(max=64))
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                           load_default=list, validate=validate.Length(max=100))
    region_level = fields.String(allow_none=True,
                                 validate=validate.OneOf(["province", "prefecture", "county"]))
    # A department code, "{region}" (the government of the case's county, else prefecture), or
    # "" (no department: the case waits for an operator, as the shipped 纪检监察 rule does).
    department = fields.String(required=True, validate=validate.Length(max=40))
    priority = fields.Integer(load_default=0, validate=validate.Range(-1000, 1000))
    active = fields.Boolean(load_default=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def category_needs_line(self, data: dict, **kwargs: Any) -> None:
        if data.get("category") and not data.get("line"):
            raise ValidationError({"category": ["A category belongs to a line: set 'line'."]})


class RuleUpdateSchema(RuleSchema):
    department = fields.String(validate=validate.Length(max=40))
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                           validate=validate.Length(max=100))
    priority = fields.Integer(validate=validate.Range(-1000, 1000))
    active = fields.Boolean()


def rule_json(rule: RoutingRule) -> dict:
    return {"id": rule.id, "line": rule.line, "category": rule.category, "topic1": rule.topic1,
            "keywords": list(rule.keywords or []), "region_level": rule.region_level,
            "department": rule.department, "priority": rule.priority, "active": rule.active,
            "note": rule.note, "updated_by": rule.updated_by}


@api.get("/rules")
@login_required(*CENTRE)
def list_rules():
    return jsonify({"items": [rule_json(r) for r in administration.rules()]})


@api.post("/rules")
@login_required(Role.ADMIN)
def create_rule():
    rule = administration.create_rule(json_body(RuleSchema()), g.user.name)
    return jsonify(rule_json(rule)), 201


@api.patch("/rules/<int:rule_id>")
@login_required(Role.ADMIN)
def update_rule(rule_id: int):
    rule = administration.find_rule(rule_id)
    rule = administration.update_rule(rule, json_body(RuleUpdateSchema()), g.user.name)
    return jsonify(rule_json(rule))


@api.delete("/rules/<int:rule_id>")
@login_required(Role.ADMIN)
def delete_rule(rule_id: int):
    administration.delete_rule(administration.find_rule(rule_id))
    return "", 204


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/rules", "get", "List routing rules (分类转办规则)", None, None, ["routing"]),
    ("/rules", "post", "Add a routing rule", RuleSchema, None, ["routing"], (201,)),
    ("/rules/{rule_id}", "patch", "Change a routing rule", RuleUpdateSchema, None, ["routing"]),
    ("/rules/{rule_id}", "delete", "Delete a routing rule", None, None, ["routing"], (204,)),
]
