"""Administration: departments, users, lines and their categories."""

from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from ..domain.errors import Conflict, NotFound, UnknownReference
from ..domain.lifecycle import Role
from ..extensions import db
from ..models import Category, Department, Line, User
from . import api
from .auth import login_required
from .schemas import (
    CategorySchema,
    CategoryUpdateSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    LineSchema,
    LineUpdateSchema,
    UserCreateSchema,
    UserSchema,
)
from .util import json_body

STAFF = (Role.OPERATOR, Role.HANDLER, Role.SUPERVISOR)


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
    data = json_body(DepartmentSchema())
    if db.session.scalar(select(Department).where(Department.code == data["code"])):
        raise Conflict("a department with this code exists",
                       {"code": [f"{data['code']!r} is taken."]})
    dep = Department(**data)
    db.session.add(dep)
    db.session.commit()
    return jsonify(department_json(dep)), 201


@api.patch("/departments/<code>")
@login_required(Role.ADMIN)
def update_department(code: str):
    dep = db.session.scalar(select(Department).where(Department.code == code))
    if dep is None:
        raise NotFound(f"no department {code}")
    for key, value in json_body(DepartmentUpdateSchema()).items():
        setattr(dep, key, value)
    db.session.commit()
    return jsonify(department_json(dep))


# --- users ---------------------------------------------------------------------------------

@api.get("/users")
@login_required(Role.ADMIN)
def list_users():
    rows = db.session.scalars(select(User).order_by(User.id))
    return jsonify({"items": UserSchema(many=True).dump(rows)})


@api.get("/me")
@login_required()
def me():
    return jsonify(UserSchema().dump(g.user))


def create_user(name: str, role: str, department: str | None) -> tuple[User, str]:
    """Create a user and return it with its token (shown once; only its hash is kept)."""
    if db.session.scalar(select(User).where(User.name == name)):
        raise Conflict("a user with this name exists", {"name": [f"{name!r} is taken."]})
    if department and not db.session.scalar(select(Department).where(Department.code == department)):
        raise UnknownReference("unknown department", {"department": [f"No department {department!r}."]})
    user = User(name=name, role=role, department_code=department)
    token = user.issue_token()
    db.session.add(user)
    db.session.commit()
    return user, token


@api.post("/users")
@login_required(Role.ADMIN)
def post_user():
    data = json_body(UserCreateSchema())
    user, token = create_user(data["name"], data["role"], data.get("department"))
    return jsonify({**UserSchema().dump(user), "token": token}), 201


@api.post("/users/<name>/token")
@login_required(Role.ADMIN)
def rotate_token(name: str):
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name}")
    token = user.issue_token()
    db.session.commit()
    return jsonify({**UserSchema().dump(user), "token": token})


# --- lines and categories ------------------------------------------------------------------

def _line(code: str) -> Line:
    line = db.session.scalar(select(Line).where(Line.code == code))
    if line is None:
        raise NotFound(f"no line {code}")
    return line


@api.get("/lines")
@login_required()
def list_lines():
    rows = db.session.scalars(select(Line).order_by(Line.id))
    return jsonify({"items": [line_json(line) for line in rows]})


@api.get("/lines/<code>")
@login_required()
def get_line(code: str):
    return jsonify(line_json(_line(code)))


@api.post("/lines")
@login_required(Role.ADMIN)
def create_line():
    data = json_body(LineSchema())
    if db.session.scalar(select(Line).where(Line.code == data["code"])):
        raise Conflict("a line with this code exists", {"code": [f"{data['code']!r} is taken."]})
    categories = data.pop("categories")
    line = Line(**data)
    line.categories = [Category(**c) for c in categories]
    db.session.add(line)
    db.session.commit()
    return jsonify(line_json(line)), 201


@api.patch("/lines/<code>")
@login_required(Role.ADMIN)
def update_line(code: str):
    line = _line(code)
    for key, value in json_body(LineUpdateSchema()).items():
        setattr(line, key, value)
    db.session.commit()
    return jsonify(line_json(line))


@api.post("/lines/<code>/categories")
@login_required(Role.ADMIN)
def create_category(code: str):
    line = _line(code)
    data = json_body(CategorySchema())
    if any(c.code == data["code"] for c in line.categories):
        raise Conflict("the line has this category", {"code": [f"{data['code']!r} is taken."]})
    cat = Category(line=line, **data)
    db.session.add(cat)
    db.session.commit()
    return jsonify(category_json(cat)), 201


@api.patch("/lines/<code>/categories/<cat_code>")
@login_required(Role.ADMIN)
def update_category(code: str, cat_code: str):
    line = _line(code)
    cat = next((c for c in line.categories if c.code == cat_code), None)
    if cat is None:
        raise NotFound(f"line {code} has no category {cat_code}")
    for key, value in json_body(CategoryUpdateSchema()).items():
        setattr(cat, key, value)
    db.session.commit()
    return jsonify(category_json(cat))
