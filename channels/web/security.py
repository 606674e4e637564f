"""Abuse protection for the public pages and API: rate limits per client, CSRF tokens for the
HTML forms, the client's address behind proxies, and the security headers of every page.

Rate limits count in Redis when ``REDIS_URL`` is set, so that every gunicorn process shares
one count; if Redis cannot be reached they count in the process's memory for a while instead
(a public form must keep working when Redis is down, docs/channels.md, and a per-process count
still stops a single client hammering one process).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from hotline import webforms
from hotline.domain.errors import DomainError

log = logging.getLogger(__name__)

# Limits per client, in the `limits` notation. Many citizens share one address behind a mobile
# carrier's NAT, so the per-client numbers are generous.
#
# The status look-up (number + last four digits of the phone) is guarded per case number too,
# but by failures and without locking anyone out: once look-ups of one number have failed
# `status_tail_failures` times lately, from whatever addresses, the four digits alone no longer
# open it and the whole phone number is asked for instead (`tail_guarded`). Whoever walks
# through the 10,000 tails of a number gets at most 10 tries in 30 days — one chance in a
# thousand — and then faces some 10^10 phone numbers; the citizen, who knows their own phone,
# is never shut out by a stranger's tries (a 429 only ever stops the client that made too many
# requests itself).
DEFAULT_LIMITS = {
    "write": "10/10minute;50/day",  # messages written (valid ones)
    "write_attempt": "30/10minute",  # every post of the form, mistakes included
    "status": "20/minute;200/hour",
    "status_tail_failures": "10/30day",  # per case number, from anyone: see above
    "survey": "10/minute",
    "board": "120/minute",
    "open311_write": "60/minute;2000/day",
}
REDIS_RETRY_SECONDS = 30


class RateLimited(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """Moving-window counters per (scope, key), in Redis or in memory."""

    def __init__(self, redis_url: str | None):
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis_url = redis_url
        self._redis: MovingWindowRateLimiter | None = None
        self._redis_down_until = 0.0

    def _shared(self) -> MovingWindowRateLimiter | None:
        if not self._redis_url or time.monotonic() < self._redis_down_until:
            return None
        if self._redis is None:
            # Short timeouts: a public page must not hang on a dead Redis.
            storage = RedisStorage(self._redis_url, wrap_exceptions=True,
                                   socket_connect_timeout=0.3, socket_timeout=0.5,
                                   key_prefix="hotline-web-limits")
            self._redis = MovingWindowRateLimiter(storage)
        return self._redis

    def hit(self, scope: str, key: str, rules: str) -> int | None:
        """Count one request; None if it is allowed, else the seconds until it would be."""
        items = parse_many(rules)
        return self._counted(lambda limiter: self._hit(limiter, items, scope, key))

    def exhausted(self, scope: str, key: str, rules: str) -> bool:
        """Whether `key` has used up `scope` already (counts nothing)."""
        items = parse_many(rules)
        return self._counted(
            lambda limiter: not all(limiter.test(item, scope, key) for item in items))

    def _counted(self, count: Callable[[MovingWindowRateLimiter], Any]) -> Any:
        shared = self._shared()
        if shared is not None:
            try:
                return count(shared)
            except (StorageError, RedisError, OSError) as exc:
                log.warning("rate limits: Redis unreachable (%s); counting in memory for %ss",
                            exc, REDIS_RETRY_SECONDS)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return count(self._memory)

    @staticmethod
    def _hit(limiter: MovingWindowRateLimiter, items: list[RateLimitItem], scope: str,
             key: str) -> int | None:
        for item in items:
            if not limiter.hit(item, scope, key):
                reset = limiter.get_window_stats(item, scope, key).reset_time
                return max(1, int(reset - time.time()) + 1)
        return None


def limiter() -> RateLimiter:
    return current_app.extensions["hotline_web_limiter"]


def _rules(scope: str) -> str | None:
    return {**DEFAULT_LIMITS, **current_app.config.get("WEB_RATE_LIMITS", {})}.get(scope)


def check_limit(scope: str, key: str | None = None) -> None:
    """Count this request against `scope` for this client (or `key`); refuse it when over."""
    rules = _rules(scope)
    if not rules:
        return
    wait = limiter().hit(scope, key or client_address(), rules)
    if wait is not None:
        raise RateLimited("too many requests; try again later", wait)


def tail_guarded(number: str) -> bool:
    """Whether look-ups of this case number (existing or not) failed so often lately, from
    anyone, that the last four digits of the phone no longer open it (see DEFAULT_LIMITS)."""
    rules = _rules("status_tail_failures")
    return bool(rules) and limiter().exhausted("status_tail_failures", number, rules)


def count_failed_lookup(number: str) -> None:
    """One more failed look-up of this case number, from whoever made it."""
    rules = _rules("status_tail_failures")
    if rules:
        limiter().hit("status_tail_failures", number, rules)


# The client's address behind trusted proxies: one rule in the core, shared with staff sign-in.
client_address = webforms.client_address


# --- CSRF: one rule for every form of the app, in the core ------------------------------

CSRF_MAX_AGE = webforms.CSRF_MAX_AGE
CsrfFailed = webforms.CsrfFailed
csrf_token = webforms.csrf_token
check_csrf = webforms.check_csrf


# --- headers -------------------------------------------------------------------------------

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def secure_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def no_store(view: Callable) -> Callable:
    """For pages with a form or a citizen's own case: never kept in a shared cache."""
    from functools import wraps

    from flask import make_response

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


def install(app: Flask) -> None:
    """One rate limiter per app (each counts for its own Redis), and cookie defaults."""
    app.extensions["hotline_web_limiter"] = RateLimiter(app.config.get("REDIS_URL"))
    webforms.install_cookie_defaults(app)
