"""Outward senders behind one interface: SMS and calls through Twilio, WeChat messages, e-mail
through SMTP, a log.

The workers' outbox relay hands each ``OutboundMessage`` to the sender of its channel
(``build_senders`` picks them from the configuration) and records the outcome:

- a ``SendResult``: the provider took the message (``provider_id`` is Twilio's SM…/CA… sid or
  WeChat's template msgid; customer-service messages have none);
- ``PermanentSendError``: it can never go out as it is (invalid number, unsubscribed, outside
  WeChat's 48-hour window with no template…): stop and show staff the reason;
- ``TransientSendError``: try again later (provider down, timeout, rate limit, credentials
  rejected — a configuration fix makes the same message go out).

Exactly once, or as near as the providers allow
-----------------------------------------------
Neither provider takes an idempotency key on create: a POST to Twilio's Messages.json or
Calls.json, or to WeChat's message endpoints, that is repeated sends twice. So the relay must:

1. commit the outbox row as ``sending`` (with the time) *before* calling ``send``;
2. record the result (or the error) right after;
3. never re-send a row found in ``sending`` (a worker died between 1 and 2), nor one whose
   ``TransientSendError`` has ``maybe_sent`` set (the request reached the provider but no answer
   came back: read timeout, dropped connection, 5xx), without first asking the provider.

For step 3 the Twilio senders implement ``Reconciler.find_sent(msg, since)``: it lists the
messages (calls) to that number from the line's number and returns the one created since the
attempt with the same body (for calls: any), or ``None`` if Twilio has none — then a resend is
safe. Twilio's create request can also carry a status-callback URL: when
``TWILIO_STATUS_CALLBACK_URL`` is set, the URL sent with each message is that URL with
``outbox_key=<key>`` added, so the callback that Twilio posts (with ``MessageSid`` /
``CallSid`` and the status) names the outbox row even if the worker died before recording the
sid. WeChat offers no way to look up a sent customer-service or template message, so a WeChat
row left in ``sending`` (or with ``maybe_sent``) cannot be verified: the relay should mark it
for staff ("发送状态未知") rather than send it again.

The package: ``base`` (the interface, shared helpers, ``LogSender``), one module per provider
(``twilio``, ``wechat``, ``smtp``), and ``build_senders`` here, which picks them from the
configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.config import setting

from .base import (
    DEFAULT_TIMEOUT,
    LogSender,
    OutboundMessage,
    PermanentSendError,
    Reconciler,
    Sender,
    SendError,
    SendResult,
    TransientSendError,
)
from .smtp import EmailSender
from .twilio import (
    MANDARIN_VOICE,
    RebasingHttpClient,
    TwilioCallSender,
    TwilioSmsSender,
    twilio_client,
)
from .wechat import WECHAT_WINDOW, SharedTokenWeChatClient, WeChatSender

__all__ = [
    "DEFAULT_TIMEOUT", "MANDARIN_VOICE", "WECHAT_WINDOW", "EmailSender", "LogSender",
    "OutboundMessage", "PermanentSendError", "RebasingHttpClient", "Reconciler", "SendError",
    "SendResult", "Sender", "SharedTokenWeChatClient", "TransientSendError", "TwilioCallSender",
    "TwilioSmsSender", "WeChatSender", "build_senders", "twilio_client",
]


# -- configuration -----------------------------------------------------------------------------


def _setting(config: Mapping[str, Any], name: str) -> str | None:
    value = setting(name, config=config)  # the configuration, else the environment
    return str(value) if value is not None else None


def build_senders(config: Mapping[str, Any], redis: Any | None) -> dict[str, Sender]:
    """Senders for every channel ("sms", "voice", "wechat", "email", "log") from the configuration.

    Twilio senders when ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` are set, WeChat when
    ``WECHAT_APPID`` and ``WECHAT_SECRET`` are; ``LogSender`` for the rest. Optional:
    ``TWILIO_API_BASE`` / ``WECHAT_API_BASE`` (local servers in tests and staging),
    ``TWILIO_FROM_NUMBER`` (when a message has no line number), ``TWILIO_STATUS_CALLBACK_URL``,
    ``WECHAT_TEMPLATE_ID``, ``WECHAT_TEMPLATE_FIELD``, ``SENDER_TIMEOUT`` (seconds). E-mail
    (department contacts) through ``SMTP_HOST`` when set, with ``SMTP_PORT`` (25),
    ``SMTP_FROM``, ``SMTP_USERNAME``, ``SMTP_PASSWORD`` and ``SMTP_STARTTLS``.
    ``redis`` is a redis-py client for the shared WeChat token.
    """
    log = LogSender()
    senders: dict[str, Sender] = {"log": log, "sms": log, "voice": log, "wechat": log,
                                  "email": log}
    timeout = float(_setting(config, "SENDER_TIMEOUT") or DEFAULT_TIMEOUT)

    sid = _setting(config, "TWILIO_ACCOUNT_SID")
    token = _setting(config, "TWILIO_AUTH_TOKEN")
    if sid and token:
        client = twilio_client(
            sid, token, base_url=_setting(config, "TWILIO_API_BASE"), timeout=timeout
        )
        options: dict[str, Any] = {
            "default_from": _setting(config, "TWILIO_FROM_NUMBER"),
            "status_callback": _setting(config, "TWILIO_STATUS_CALLBACK_URL"),
            "client": client,
        }
        senders["sms"] = TwilioSmsSender(sid, token, **options)
        senders["voice"] = TwilioCallSender(sid, token, **options)

    appid = _setting(config, "WECHAT_APPID")
    secret = _setting(config, "WECHAT_SECRET")
    if appid and secret:
        senders["wechat"] = WeChatSender(
            appid,
            secret,
            redis=redis,
            api_base_url=_setting(config, "WECHAT_API_BASE"),
            template_id=_setting(config, "WECHAT_TEMPLATE_ID"),
            template_field=_setting(config, "WECHAT_TEMPLATE_FIELD") or "content",
            timeout=timeout,
        )

    host = _setting(config, "SMTP_HOST")
    if host:
        senders["email"] = EmailSender(
            host,
            int(_setting(config, "SMTP_PORT") or 25),
            sender=_setting(config, "SMTP_FROM") or "hotline@localhost",
            username=_setting(config, "SMTP_USERNAME"),
            password=_setting(config, "SMTP_PASSWORD"),
            starttls=(_setting(config, "SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
            timeout=timeout,
        )
    return senders
