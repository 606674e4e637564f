"""Console sign-in sessions: who is signed in, for how long, and the guard of every page.

The session lives in Flask's signed cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS; see
`hotline.webforms`) and holds only the user's id, the `session_version` it was signed in under
and when it was last used. Every request re-reads the user, so a deactivated user, a new
password or an admin's "sign out everywhere" ends a session at its next click; a session idle
longer than `CONSOLE_IDLE_MINUTES` (default 30) ends too.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from ..extensions import db
from ..models import User
from ..webforms import check_csrf
from . import bp

SESSION_KEY = "staff"
DEFAULT_IDLE_MINUTES = 30
# Pages anyone may open: the sign-in form itself and the console's static files.
OPEN_ENDPOINTS = frozenset({"console.login", "console.static"})
# Requests a page makes by itself (the desk's poll): they are not the user's activity and keep
# no idle session alive.
PASSIVE_ENDPOINTS = frozenset({"console.department_feed"})
# Pages a user who must choose a new password may still open.
PASSWORD_ENDPOINTS = frozenset({"console.password", "console.logout"})


def idle_seconds() -> int:
    return int(current_app.config.get("CONSOLE_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)) * 60


def sign_in(user: User) -> None:
    """Start a console session for the user (a fresh session: nothing carried over)."""
    session.clear()
    session[SESSION_KEY] = {"id": user.id, "v": user.session_version, "seen": int(time.time())}


def sign_out() -> None:
    session.clear()


def signed_in_user() -> tuple[User | None, str | None]:
    """The user of this browser's session and, when there is none, why (for the sign-in page)."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None, None
    user = db.session.get(User, data.get("id")) if isinstance(data.get("id"), int) else None
    if user is None or not user.active or data.get("v") != user.session_version:
        session.pop(SESSION_KEY, None)
        return None, "ended"
    if time.time() - float(data.get("seen") or 0) > idle_seconds():
        session.pop(SESSION_KEY, None)
        return None, "idle"
    if request.endpoint not in PASSIVE_ENDPOINTS:
        data["seen"] = int(time.time())
        session[SESSION_KEY] = data
    return user, None


def safe_next(target: str | None) -> str | None:
    """Only a path of the console itself may be returned to after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return None
    return target


@bp.before_request
def guard():
    """Every console request: CSRF on posts, then a signed-in user (or the sign-in page)."""
    from ..api.auth import actor_of

    if request.method == "POST":
        check_csrf()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    user, why = signed_in_user()
    if user is None:
        args = {"next": request.full_path.rstrip("?")} if request.method == "GET" else {}
        if why:
            args["why"] = why
        return redirect(url_for("console.login", **args))
    g.user = user
    g.actor = actor_of(user)
    if user.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
        return redirect(url_for("console.password"))
    return None
