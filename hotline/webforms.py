"""What every HTML form of the app shares, public board and staff console alike: the CSRF token
of a form, the same-origin check of a post, the client's address, and the session cookie's
defaults.

A token is the session's secret, signed and timestamped; a post is refused when the browser says
it came from another site or its token does not match this browser's session.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from itsdangerous import BadData, URLSafeTimedSerializer

from .config import trusted_proxies
from .domain.errors import DomainError

CSRF_MAX_AGE = 6 * 3600  # a citizen may take a long time to write a letter


class CsrfFailed(DomainError):
    status = 400
    code = "csrf_failed"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hotline-web-csrf")


def csrf_token() -> str:
    """A token for a form: the session's secret, signed and timestamped."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return _serializer().dumps(session["csrf"])


def check_csrf(max_age: int | None = None) -> None:
    """Refuse a form post that did not come from our own page in this browser."""
    if not _same_origin():
        raise CsrfFailed("the form was sent from another site")
    token = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    if max_age is None:
        max_age = current_app.config.get("WEB_CSRF_MAX_AGE", CSRF_MAX_AGE)
    try:
        value = _serializer().loads(token, max_age=max_age)
    except BadData:
        raise CsrfFailed("the form has expired or was not sent from this site") from None
    expected = session.get("csrf")
    if not isinstance(value, str) or not expected or not hmac.compare_digest(value, expected):
        raise CsrfFailed("the form has expired or was not sent from this site")


def _same_origin() -> bool:
    # Browsers say where a request comes from; a cross-site form post is refused before the
    # token is even looked at.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # older browsers and privacy settings send none; the token still decides
    if origin == "null":
        return False  # a sandboxed frame or a data: page
    allowed = {_origin_of(request.host_url)}
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        allowed.add(_origin_of(base))
    return _origin_of(origin) in allowed


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def client_address() -> str:
    """The client's address. Behind N trusted reverse proxies (``config.trusted_proxies``), the
    N-th address from the right of X-Forwarded-For: the ones further left are the client's
    own claims and would let it pick a fresh rate-limit bucket (or escape a sign-in lock) for
    every request."""
    hops = trusted_proxies(current_app.config)
    if hops > 0:
        forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                     if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def install_cookie_defaults(app: Flask) -> None:
    """The session cookie carries the CSRF secret and a staff sign-in: keep it from scripts and
    other sites, and never send it in clear when the app is served over HTTPS."""
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if (app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
