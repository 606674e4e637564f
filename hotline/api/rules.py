"""Routing rules through the API: an admin edits them; the next routing decision uses them."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ..domain.errors import NotFound, UnknownReference
from ..domain.lifecycle import CENTRE, Role
from ..extensions import db
from ..models import Category, Department, Line, RoutingRule
from . import api
from .auth import login_required
from .openapi import EXTRA_PATHS
from .schemas import StrictSchema
from .util import json_body

REGION_PLACEHOLDER = "{region}"


class RuleSchema(StrictSchema):
    line = fields.String(allow_none=True, validate=validate.Length(max=32))
    category = fields.String(allow_none=True, validate=validate.Length(max=32))
    topic1 = fields.String(allow_none=True, validate=validate.Length(max=64))
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                           load_default=list, validate=validate.Length(max=100))
    region_level = fields.String(allow_none=True,
                                 validate=validate.OneOf(["province", "prefecture", "county"]))
    department = fields.String(required=True, validate=validate.Length(min=1, max=40))
    priority = fields.Integer(load_default=0, validate=validate.Range(-1000, 1000))
    active = fields.Boolean(load_default=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def category_needs_line(self, data: dict, **kwargs: Any) -> None:
        if data.get("category") and not data.get("line"):
            raise ValidationError({"category": ["A category belongs to a line: set 'line'."]})


class RuleUpdateSchema(RuleSchema):
    department = fields.String(validate=validate.Length(min=1, max=40))
    keywords = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                           validate=validate.Length(max=100))
    priority = fields.Integer(validate=validate.Range(-1000, 1000))
    active = fields.Boolean()


def rule_json(rule: RoutingRule) -> dict:
    return {"id": rule.id, "line": rule.line, "category": rule.category, "topic1": rule.topic1,
            "keywords": list(rule.keywords or []), "region_level": rule.region_level,
            "department": rule.department, "priority": rule.priority, "active": rule.active,
            "note": rule.note, "updated_by": rule.updated_by}


def _check_references(data: dict) -> None:
    """Rules name lines, categories and departments that exist (or the {region} placeholder)."""
    errors: dict[str, list[str]] = {}
    line = None
    if data.get("line"):
        line = db.session.scalar(select(Line).where(Line.code == data["line"]))
        if line is None:
            errors["line"] = [f"No line {data['line']!r}."]
    if data.get("category") and line is not None:
        cat = db.session.scalar(select(Category).where(Category.line_id == line.id,
                                                       Category.code == data["category"]))
        if cat is None:
            errors["category"] = [f"Line {line.code!r} has no category {data['category']!r}."]
    dep = data.get("department")
    if dep and dep != REGION_PLACEHOLDER and not db.session.scalar(
            select(Department).where(Department.code == dep)):
        errors["department"] = [f"No department {dep!r} (or use {REGION_PLACEHOLDER!r})."]
    if errors:
        raise UnknownReference("the rule names something that does not exist", errors)


@api.get("/rules")
@login_required(*CENTRE)
def list_rules():
    rows = db.session.scalars(select(RoutingRule).order_by(RoutingRule.priority.desc(),
                                                           RoutingRule.id))
    return jsonify({"items": [rule_json(r) for r in rows]})


@api.post("/rules")
@login_required(Role.ADMIN)
def create_rule():
    data = json_body(RuleSchema())
    _check_references(data)
    rule = RoutingRule(**data, updated_by=g.user.name)
    db.session.add(rule)
    db.session.commit()
    return jsonify(rule_json(rule)), 201


def _rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


@api.patch("/rules/<int:rule_id>")
@login_required(Role.ADMIN)
def update_rule(rule_id: int):
    rule = _rule(rule_id)
    data = json_body(RuleUpdateSchema())
    merged = {**rule_json(rule), **data}
    _check_references(merged)
    for key, value in data.items():
        setattr(rule, key, value)
    rule.updated_by = g.user.name
    db.session.commit()
    return jsonify(rule_json(rule))


@api.delete("/rules/<int:rule_id>")
@login_required(Role.ADMIN)
def delete_rule(rule_id: int):
    # Rules are configuration, not records: deleting one is fine (cases keep their reasons).
    db.session.delete(_rule(rule_id))
    db.session.commit()
    return "", 204


EXTRA_PATHS.extend([
    ("/rules", "get", "List routing rules (分类转办规则)", None, None, ["routing"]),
    ("/rules", "post", "Add a routing rule", RuleSchema, None, ["routing"], (201,)),
    ("/rules/{rule_id}", "patch", "Change a routing rule", RuleUpdateSchema, None, ["routing"]),
    ("/rules/{rule_id}", "delete", "Delete a routing rule", None, None, ["routing"], (204,)),
])
