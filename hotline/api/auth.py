"""Bearer-token authentication and role checks for the staff API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from .. import reference
from ..domain.errors import DomainError, Forbidden
from ..domain.lifecycle import Actor, Role
from ..domain.staff import token_state
from ..models import User


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class TokenExpired(Unauthorized):
    code = "token_expired"


class TokenRevoked(Unauthorized):
    code = "token_revoked"


class UserDeactivated(Unauthorized):
    code = "user_deactivated"


def current_user() -> User:
    """The user of the request's bearer token; an expired or revoked token, or one of a
    deactivated user, is refused at once and told which."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    user = user_of_token(token.strip())
    if user is None:
        raise Unauthorized("unknown token")
    if not user.active:
        raise UserDeactivated("this token's user is deactivated")
    state = token_state(user, dt.datetime.now(dt.UTC))
    if state == "revoked":
        raise TokenRevoked(f"this token was revoked at {_local(user.token_revoked_at)}; "
                           "ask an admin for a new one")
    if state == "expired":
        raise TokenExpired(f"this token expired at {_local(user.token_expires_at)}; "
                           "ask an admin for a new one")
    return user


def user_of_token(token: str) -> User | None:
    """The user whose API token this is, whatever the token's state (this process's copy,
    as current as the row: `hotline.reference`)."""
    return reference.user_by_token_hash(User.hash_token(token))


def _local(at: Any) -> str:
    from ..domain.deadlines import PROVINCE_TZ

    return at.astimezone(PROVINCE_TZ).isoformat(timespec="minutes")


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
