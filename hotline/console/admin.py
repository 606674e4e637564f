"""The admin's account pages (账号管理): staff accounts with their locks, roles, passwords and
API tokens, and the account log (登录与账号日志).

Each form calls the same function of `hotline.identity` as the admin API, so a rule (a handler
needs a department, the last admin stays, a reset forces a new password) holds on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from .. import identity
from ..api.schemas import AuthEventQuerySchema, UserCreateSchema
from ..domain.errors import DomainError, Forbidden, NotFound
from ..domain.lifecycle import Role
from ..domain.staff import EVENT_NAMES, is_locked, token_state
from ..extensions import db
from ..models import Department, User
from . import bp
from .views import page_filters

TOKEN_STATE_NAMES = {"none": "无", "active": "有效", "expired": "已过期", "revoked": "已吊销"}
# What the page says after a change went through (`?done=`).
DONE = {
    "created": "账号已创建。请把初始密码告诉本人，首次登录时须修改。",
    "role": "角色和部门已修改，该用户需重新登录。",
    "deactivated": "账号已停用，其登录和 API 令牌立即失效。",
    "reactivated": "账号已启用。",
    "password": "密码已重置，该用户下次登录时须设置新密码。",
    "unlocked": "已解除锁定。",
    "sign-out": "该用户的所有登录已结束。",
    "revoked": "API 令牌已吊销。",
}


def admin_only(view: Callable) -> Callable:
    """Account pages are for admins, as the account API is."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if g.user.role != Role.ADMIN:
            raise Forbidden("只有管理员可以管理账号。")
        return view(*args, **kwargs)

    return wrapper


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.code)))


FIELD_LABELS = {"name": "用户名", "role": "角色", "department": "部门", "password": "密码"}


def _schema_messages(exc: ValidationError) -> str:
    messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
    return " ".join(f"{FIELD_LABELS.get(k, k)}：{m}" for k, ms in messages.items()
                    for m in (ms if isinstance(ms, list) else [ms]))


def _messages(exc: DomainError) -> str:
    return " ".join(m for ms in (exc.fields or {}).values() for m in ms) or exc.message


def _account_view_globals() -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"now": now, "is_locked": is_locked, "token_state": token_state,
            "token_state_names": TOKEN_STATE_NAMES, "event_names": EVENT_NAMES,
            "departments": _departments()}


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_only
def admin_users():
    form: dict[str, str] = {}
    error = None
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("name", "role", "department")}
        try:
            data = UserCreateSchema().load({**form, "department": form["department"] or None,
                                            "password": request.form.get("password") or ""})
            user, _token = identity.create_user(
                data["name"], data["role"], data.get("department"), password=data["password"],
                must_change=True, token=False, by=g.user)
        except ValidationError as exc:
            error = _schema_messages(exc)
        except DomainError as exc:
            db.session.rollback()
            error = _messages(exc)
        else:
            return redirect(url_for("console.admin_user", user_id=user.id, done="created"))
    users = list(db.session.scalars(select(User).order_by(User.role, User.name)))
    locked = [u for u in users if is_locked(u, dt.datetime.now(dt.UTC))]
    return render_template("console/admin_users.html", users=users, locked=locked, form=form,
                           error=error, **_account_view_globals()), 400 if error else 200


@bp.get("/admin/users/<int:user_id>")
@admin_only
def admin_user(user_id: int):
    return _user_page(_account(user_id), done=DONE.get(request.args.get("done", "")))


def _user_page(user: User, *, done: str | None = None, error: str | None = None,
               token: str | None = None, status: int = 200):
    events, total = identity.account_log(user=user.name, per_page=20)
    return render_template("console/admin_user.html", user=user, events=events,
                           total_events=total, done=done, error=error, token=token,
                           **_account_view_globals()), status


@bp.post("/admin/users/<int:user_id>/<action>")
@admin_only
def admin_user_action(user_id: int, action: str):
    """One change to an account from its page; an impossible one says why and changes nothing."""
    user = _account(user_id)
    form = request.form
    if action not in ACCOUNT_ACTIONS:
        raise NotFound(f"no action {action}")
    try:
        done, token = ACCOUNT_ACTIONS[action](user, form)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _user_page(_account(user_id), error=_messages(exc), status=exc.status)
    if token is not None:  # shown this once, never in a URL
        return _user_page(user, token=token)
    return redirect(url_for("console.admin_user", user_id=user.id, done=done))


def _change_role(user: User, form: Any) -> tuple[str, None]:
    identity.change_role(user, form.get("role", ""), form.get("department") or None, by=g.user)
    return "role", None


def _set_active(user: User, form: Any) -> tuple[str, None]:
    active = form.get("active") == "true"
    identity.set_active(user, active, by=g.user)
    return ("reactivated" if active else "deactivated"), None


def _reset_password(user: User, form: Any) -> tuple[str, None]:
    identity.reset_password(user, form.get("password") or "", by=g.user)
    return "password", None


def _unlock(user: User, form: Any) -> tuple[str, None]:
    identity.unlock(user, by=g.user)
    return "unlocked", None


def _sign_out(user: User, form: Any) -> tuple[str, None]:
    identity.sign_out_everywhere(user, by=g.user)
    return "sign-out", None


def _issue_token(user: User, form: Any) -> tuple[str, str]:
    raw = (form.get("days") or "").strip()
    if raw and not raw.isdigit():
        raise DomainError("days is not a number", {"days": ["有效天数须是整数。"]})
    return "token", identity.issue_token(user, int(raw) if raw else None, by=g.user)


def _revoke_token(user: User, form: Any) -> tuple[str, None]:
    identity.revoke_token(user, by=g.user)
    return "revoked", None


ACCOUNT_ACTIONS: dict[str, Callable[[User, Any], tuple[str, str | None]]] = {
    "role": _change_role,
    "active": _set_active,
    "password": _reset_password,
    "unlock": _unlock,
    "sign-out": _sign_out,
    "token": _issue_token,
    "revoke-token": _revoke_token,
}


@bp.get("/admin/auth-events")
@admin_only
def auth_events():
    """The account log as a page: the API's filters (user, kind, address), newest first."""
    raw = {k: v.strip() for k, v in request.args.items() if v.strip()}
    args, errors = page_filters(AuthEventQuerySchema(), raw)
    rows, total = identity.account_log(**args)
    return render_template("console/auth_events.html", rows=rows, total=total, args=raw,
                           errors=errors, page=args["page"], per_page=args["per_page"],
                           event_names=EVENT_NAMES)
