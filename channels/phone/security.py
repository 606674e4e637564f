"""Checking that a webhook comes from Twilio (X-Twilio-Signature), and the URLs Twilio is given.

Twilio signs the URL it requested (scheme, host, path, query) plus the POSTed form. Behind a
proxy the app sees another URL, so the check uses `PUBLIC_BASE_URL` + path + query when it is
set; otherwise the request's own URL, which `TRUSTED_PROXIES` (werkzeug's ProxyFix) makes
the public one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from hotline.config import base_url
from hotline.domain.errors import Forbidden

logger = logging.getLogger(__name__)

PREFIX = "/channels/twilio"


def signed_url() -> str:
    """The URL Twilio requested, as it signed it."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    query = request.query_string.decode("utf-8", "replace")
    if base:
        url = base.rstrip("/") + request.path
        return f"{url}?{query}" if query else url
    return request.url if query else request.base_url


def is_from_twilio() -> bool:
    """Whether the current request carries a valid Twilio signature."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    secret = current_app.config.get("TWILIO_AUTH_TOKEN")
    if settings and current_app.config.get("TWILIO_WEBHOOK_SHARED_KEY"):
        # Webhooks signed with a shared key say so in this header (twilio >= 9.13).
        secret = current_app.config["TWILIO_WEBHOOK_SHARED_KEY"]
    if not secret:
        logger.error("Twilio webhook refused: TWILIO_AUTH_TOKEN is not set")
        return False
    validator = RequestValidator(secret)
    return validator.validate(signed_url(), request.form, signature,
                              get_signature_algorithm(settings))


def twilio_webhook(view: Callable) -> Callable:
    """Refuse (403, nothing read or changed) any request Twilio did not sign."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not is_from_twilio():
            logger.warning("Twilio webhook %s refused: bad or missing signature (from %s)",
                           request.path, request.remote_addr)
            raise Forbidden("the X-Twilio-Signature of this request is missing or wrong")
        return view(*args, **kwargs)

    return wrapper


def public_url(path: str, **params: Any) -> str:
    """An absolute URL of one of our webhooks (`path` under /channels/twilio), as Twilio must
    request and sign it. Works outside a request too (a worker placing a survey call)."""
    # Without a public address Twilio cannot reach us from outside; the request's own host
    # is right in development and tests, where Twilio's requests are simulated.
    base = base_url(current_app.config)
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return base + PREFIX + path + (f"?{query}" if query else "")
