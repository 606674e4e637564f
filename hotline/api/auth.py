"""Bearer-token authentication and role checks for the staff API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from sqlalchemy import select

from ..domain.errors import DomainError, Forbidden
from ..domain.lifecycle import Actor, Role
from ..extensions import db
from ..models import User


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


def current_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    user = db.session.scalar(select(User).where(User.token_hash == User.hash_token(token.strip())))
    if user is None or not user.active:
        raise Unauthorized("unknown or revoked token")
    return user


def actor_of(user: User) -> Actor:
    return Actor(name=user.name, role=user.role, department_code=user.department_code)


def login_required(*roles: str) -> Callable:
    """Authenticate the caller; with roles, only those (and admins) may call the view."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            user = current_user()
            if roles and user.role != Role.ADMIN and user.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}; you are {user.role}")
            g.user = user
            g.actor = actor_of(user)
            return view(*args, **kwargs)

        return wrapper

    return decorator
