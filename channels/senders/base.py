"""The senders' one interface — OutboundMessage in, a SendResult or a SendError out — the
helpers every provider shares, and LogSender for a channel without credentials. The rules of
sending exactly once are in the package's docstring (channels/senders/__init__.py)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

logger = logging.getLogger(__name__)

#: Seconds to wait for a provider. Twilio answers creates in well under a second; a worker stuck
#: far longer holds a job slot and the message is better retried (after reconciliation).
DEFAULT_TIMEOUT = 10.0
T = TypeVar("T")


# -- the interface -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundMessage:
    """One message to a citizen, as the outbox relay hands it over."""

    key: str  # idempotency key, unique per message (the outbox row id)
    channel: str  # "sms" | "wechat" | "voice" | "email" | "log"
    to: str  # phone (E.164) or openid
    text: str  # Chinese text
    purpose: str  # "notify" | "survey" | "remind" | "ack" ...
    # WeChat template for outside the 48h window: {"template_id", "data", "url"}; each part
    # optional, the configured WECHAT_TEMPLATE_ID and a data dict built from ``text`` fill in.
    template: dict | None = None
    last_inbound_at: datetime | None = None  # when the citizen last wrote (WeChat 48h window)
    from_number: str | None = None  # the line's phone number for SMS / calls
    twiml_url: str | None = None  # for automated survey calls


@dataclass
class SendResult:
    provider_id: str | None
    detail: str


class SendError(Exception):
    """A send that did not go through; ``code`` is the provider's error code where it gave one."""

    def __init__(
        self, reason: str, *, code: int | str | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.maybe_sent = maybe_sent


class PermanentSendError(SendError):
    """The message cannot go out as it is: do not retry."""


class TransientSendError(SendError):
    """Try again later. If ``maybe_sent``, the provider may have taken it: reconcile first."""


@runtime_checkable
class Sender(Protocol):
    def send(self, msg: OutboundMessage) -> SendResult: ...


@runtime_checkable
class Reconciler(Protocol):
    """A sender that can tell whether an earlier, unrecorded attempt reached the provider."""

    def find_sent(self, msg: OutboundMessage, since: datetime) -> SendResult | None: ...


# -- shared helpers ----------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the project stores instants in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _mask(to: str) -> str:
    """Keep logs free of full phone numbers and openids."""
    return f"…{to[-4:]}" if len(to) > 4 else "…"


def _never_connected(exc: BaseException) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectionRefusedError"):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
    return False


def _network_error(provider: str, exc: requests.exceptions.RequestException) -> SendError:
    if _never_connected(exc):
        return TransientSendError(f"{provider} unreachable: {exc}")
    return TransientSendError(f"{provider} gave no answer: {exc}", maybe_sent=True)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


# -- no credentials ----------------------------------------------------------------------------


@dataclass
class LogSender:
    """Stands in for a channel with no credentials: logs what would have been sent.

    The outbox row is where staff see the message; ``sent`` keeps the latest ones in this
    process for tests and the development server.
    """

    sent: deque[OutboundMessage] = field(default_factory=lambda: deque(maxlen=1000))

    def send(self, msg: OutboundMessage) -> SendResult:
        self.sent.append(msg)
        # The text is in the outbox row (GET /api/v1/outbox), never in the log.
        logger.debug("not sent (no %s credentials): %s %s to %s", msg.channel, msg.purpose,
                     msg.key, _mask(msg.to))
        return SendResult(provider_id=None, detail="logged")


