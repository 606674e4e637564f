"""The phone channel on Twilio: the hotlines' calls and SMS.

A call to a line's number (Line.phone_number) hears a Mandarin greeting naming the line and
goes straight to the line's queue of operators (no menu, per GB/T 33358); outside the line's
hours, or when nobody answers in time, the caller leaves a message, which becomes a case with
the recording attached. A hang-up in the queue becomes a missed-call task (回拨). SMS to a line
files a case, answers a status query or records a survey answer. Operators log answered calls
through the staff API (hotline/api/calls.py); every call is a row of ``hotline.models.Call``.

Configuration (app config, else the environment, else the default):

- ``TWILIO_AUTH_TOKEN`` (signatures), ``PUBLIC_BASE_URL`` (the URL Twilio signs and calls);
- ``TRUSTED_PROXIES`` (``hotline.config.trusted_proxies``): proxies in front of the app whose
  X-Forwarded-* headers are believed (werkzeug ProxyFix), when ``PUBLIC_BASE_URL`` is not set;
- ``PHONE_QUEUE_TIMEOUT`` (s, 90): waiting this long without an operator → leave a message;
- ``PHONE_OFFER_MESSAGE_AFTER`` (s, 30): from then on the hold message offers "按1留言";
- ``PHONE_HOLD_MUSIC_URL``: music between hold announcements (else a pause of
  ``PHONE_HOLD_PAUSE`` s, 15);
- ``PHONE_RECORD_MAX_SECONDS`` (180); ``PHONE_RECORD_CALLS`` (true): record conversations;
- ``PHONE_OPERATOR_WAIT`` (s, 30): how long an operator's dequeue waits for a caller;
- ``PHONE_HOURS_WORKDAYS_ONLY`` (true): lines with office hours are closed on rest days;
- ``PHONE_MAX_BODY`` (bytes, 64 KiB), ``PHONE_SMS_MAX_CHARS`` (1600);
- ``SURVEY_CALL_HOURS`` ((8.5, 20)): local hours in which survey calls ring;
- ``SURVEY_CALL_PHONE_CALLERS`` (false): survey every caller of a line by an automated call
  (满意请按1…), not only those without a mobile; the others get the SMS survey;
- ``PHONE_RECORDINGS_FOLDER`` (``<instance>/recordings``): where recordings of cases are kept
  once fetched from Twilio (every minute) for the case page's player;
- ``TWILIO_STATUS_CALLBACK_URL`` defaults to ``PUBLIC_BASE_URL`` + /channels/twilio/outbox-status.

Webhooks to set on each Twilio number: voice ``/channels/twilio/voice``, call status callback
``/channels/twilio/status``, messaging ``/channels/twilio/sms`` (``hotline phone-urls`` prints
them).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline.config import setting, trusted_proxies

DEFAULTS: dict[str, Any] = {
    "PHONE_QUEUE_TIMEOUT": 90,
    "PHONE_OFFER_MESSAGE_AFTER": 30,
    "PHONE_HOLD_MUSIC_URL": None,
    "PHONE_HOLD_PAUSE": 15,
    "PHONE_RECORD_MAX_SECONDS": 180,
    "PHONE_RECORD_CALLS": True,
    "PHONE_OPERATOR_WAIT": 30,
    "PHONE_HOURS_WORKDAYS_ONLY": True,
    "PHONE_MAX_BODY": 64 * 1024,
    "PHONE_SMS_MAX_CHARS": 1600,
    "TWILIO_WEBHOOK_SHARED_KEY": None,
    "SURVEY_CALL_PHONE_CALLERS": False,
}


def init_app(app: Flask) -> None:
    """Configure the channel and register its webhooks under /channels/twilio."""
    for key, default in DEFAULTS.items():
        if key not in app.config:
            app.config[key] = setting(key, default)
    base = app.config.get("PUBLIC_BASE_URL")
    if base and not app.config.get("TWILIO_STATUS_CALLBACK_URL"):
        app.config["TWILIO_STATUS_CALLBACK_URL"] = base.rstrip("/") + \
            "/channels/twilio/outbox-status"
    proxies = trusted_proxies(app.config)
    if proxies and not isinstance(app.wsgi_app, ProxyFix):
        # Without PUBLIC_BASE_URL the signature is checked against the request's URL, which
        # behind a proxy is only right when the proxy's X-Forwarded-* headers are believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore
                                x_host=proxies, x_port=proxies, x_prefix=proxies)

    from . import delivery, sms, survey_call, voice  # noqa: F401  (routes)
    from .blueprint import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)


