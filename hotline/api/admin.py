"""Administration: departments, users (with their passwords, locks, tokens and the account
log), lines and their categories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, jsonify
from sqlalchemy import select

from .. import administration, audit, identity
from ..domain.errors import NotFound
from ..domain.lifecycle import STAFF, Role
from ..extensions import db
from ..identity import create_user
from ..models import Category, Department, Line, User
from . import api
from .auth import login_required
from .schemas import (
    AuditEntrySchema,
    AuditQuerySchema,
    AuthEventQuerySchema,
    AuthEventSchema,
    CategorySchema,
    CategoryUpdateSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    LineSchema,
    LineUpdateSchema,
    PasswordResetSchema,
    TokenIssueSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from .util import json_body, query_args


def department_json(d: Department) -> dict:
    return {"code": d.code, "name": d.name, "region": d.region, "active": d.active}


def category_json(c: Category) -> dict:
    return {"code": c.code, "name": c.name, "accept_days": c.accept_days,
            "reply_days": c.reply_days, "remind_days": c.remind_days}


def line_json(line: Line) -> dict:
    return {
        "code": line.code, "name": line.name, "number_prefix": line.number_prefix,
        "phone_number": line.phone_number, "hours": line.hours, "accept_days": line.accept_days,
        "reply_days": line.reply_days, "remind_days": line.remind_days,
        "auto_dispatch_threshold": line.auto_dispatch_threshold, "active": line.active,
        "categories": [category_json(c) for c in line.categories],
    }


# --- departments ---------------------------------------------------------------------------

@api.get("/departments")
@login_required(*STAFF)
def list_departments():
    rows = db.session.scalars(select(Department).order_by(Department.code))
    return jsonify({"items": [department_json(d) for d in rows]})


@api.post("/departments")
@login_required(Role.ADMIN)
def create_department():
    dep = administration.create_department(json_body(DepartmentSchema()))
    return jsonify(department_json(dep)), 201


@api.patch("/departments/<code>")
@login_required(Role.ADMIN)
def update_department(code: str):
    dep = administration.find_department(code)
    dep = administration.update_department(dep, json_body(DepartmentUpdateSchema()))
    return jsonify(department_json(dep))


# --- users ---------------------------------------------------------------------------------

def _user(name: str) -> User:
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name}")
    return user


def _change_account(name: str, change: Callable[..., Any]) -> Response:
    """One change of `hotline.identity` to the user's account, by the signed-in admin,
    committed; the answer is the account as it is now."""
    user = _user(name)
    change(user, by=g.user)
    db.session.commit()
    return jsonify(UserSchema().dump(user))


@api.get("/users")
@login_required(Role.ADMIN)
def list_users():
    rows = db.session.scalars(select(User).order_by(User.id))
    return jsonify({"items": UserSchema(many=True).dump(rows)})


@api.get("/me")
@login_required()
def me():
    return jsonify(UserSchema().dump(g.user))


@api.post("/users")
@login_required(Role.ADMIN)
def post_user():
    data = json_body(UserCreateSchema())
    password = data.get("password")
    user, token = create_user(data["name"], data["role"], data.get("department"),
                              password=password, must_change=password is not None,
                              token_days=data.get("token_days"), by=g.user)
    return jsonify({**UserSchema().dump(user), "token": token}), 201


@api.get("/users/<name>")
@login_required(Role.ADMIN)
def get_user(name: str):
    return jsonify(UserSchema().dump(_user(name)))


@api.patch("/users/<name>")
@login_required(Role.ADMIN)
def update_user(name: str):
    """Change a user's role and department, or deactivate and reactivate them."""
    user = _user(name)
    data = json_body(UserUpdateSchema())
    if "role" in data or "department" in data:
        identity.change_role(user, data.get("role", user.role),
                             data.get("department", identity.KEEP), by=g.user)
    if "active" in data:
        identity.set_active(user, data["active"], by=g.user)
    db.session.commit()
    return jsonify(UserSchema().dump(user))


@api.post("/users/<name>/password")
@login_required(Role.ADMIN)
def reset_user_password(name: str):
    """Give the user a new password they must change at their next sign-in."""
    user = _user(name)
    identity.reset_password(user, json_body(PasswordResetSchema())["password"], by=g.user)
    db.session.commit()
    return jsonify(UserSchema().dump(user))


@api.post("/users/<name>/unlock")
@login_required(Role.ADMIN)
def unlock_user(name: str):
    return _change_account(name, identity.unlock)


@api.post("/users/<name>/sign-out")
@login_required(Role.ADMIN)
def sign_user_out(name: str):
    """End every console session of the user."""
    return _change_account(name, identity.sign_out_everywhere)


@api.post("/users/<name>/token")
@login_required(Role.ADMIN)
def rotate_token(name: str):
    """A new API token for the user (the old one stops); `days` makes it expire."""
    user = _user(name)
    token = identity.issue_token(user, json_body(TokenIssueSchema()).get("days"), by=g.user)
    db.session.commit()
    return jsonify({**UserSchema().dump(user), "token": token})


@api.delete("/users/<name>/token")
@login_required(Role.ADMIN)
def revoke_user_token(name: str):
    return _change_account(name, identity.revoke_token)


@api.get("/auth-events")
@login_required(Role.ADMIN)
def list_auth_events():
    """The account log, newest first: sign-ins, failures, locks and every change to an account."""
    args = query_args(AuthEventQuerySchema())
    rows, total = identity.account_log(**args)
    return jsonify({"items": AuthEventSchema(many=True).dump(rows), "page": args["page"],
                    "per_page": args["per_page"], "total": total})


@api.get("/audit")
@login_required(Role.ADMIN)
def list_audit():
    """The audit list of admin changes, newest first (`hotline.audit`)."""
    args = query_args(AuditQuerySchema())
    rows, total = audit.entries(**args)
    return jsonify({"items": AuditEntrySchema(many=True).dump(rows), "page": args["page"],
                    "per_page": args["per_page"], "total": total})


# --- lines and categories ------------------------------------------------------------------

@api.get("/lines")
@login_required()
def list_lines():
    rows = db.session.scalars(select(Line).order_by(Line.id))
    return jsonify({"items": [line_json(line) for line in rows]})


@api.get("/lines/<code>")
@login_required()
def get_line(code: str):
    return jsonify(line_json(administration.find_line(code)))


@api.post("/lines")
@login_required(Role.ADMIN)
def create_line():
    line = administration.create_line(json_body(LineSchema()))
    return jsonify(line_json(line)), 201


@api.patch("/lines/<code>")
@login_required(Role.ADMIN)
def update_line(code: str):
    line = administration.find_line(code)
    line = administration.update_line(line, json_body(LineUpdateSchema()))
    return jsonify(line_json(line))


@api.post("/lines/<code>/categories")
@login_required(Role.ADMIN)
def create_category(code: str):
    line = administration.find_line(code)
    cat = administration.create_category(line, json_body(CategorySchema()))
    return jsonify(category_json(cat)), 201


@api.patch("/lines/<code>/categories/<cat_code>")
@login_required(Role.ADMIN)
def update_category(code: str, cat_code: str):
    cat = administration.find_category(administration.find_line(code), cat_code)
    cat = administration.update_category(cat, json_body(CategoryUpdateSchema()))
    return jsonify(category_json(cat))
