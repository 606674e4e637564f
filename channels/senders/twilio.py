"""SMS and calls through Twilio (the twilio library), with the look-up that tells whether a
message whose answer was lost went out (Reconciler.find_sent)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client as TwilioClient
from twilio.twiml.voice_response import VoiceResponse

from .base import (
    DEFAULT_TIMEOUT,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    T,
    TransientSendError,
    _aware,
    _mask,
    _network_error,
    _with_query,
)

logger = logging.getLogger(__name__)

MANDARIN_VOICE = {"voice": "Polly.Zhiyu", "language": "cmn-CN"}


# -- Twilio ------------------------------------------------------------------------------------


class RebasingHttpClient(TwilioHttpClient):
    """A Twilio HTTP client that sends every request to another scheme and host.

    ``twilio.rest.Client`` builds absolute ``https://api.twilio.com/...`` URLs and has no
    base-URL setting; tests and staging point it at a local server through this client.
    """

    def __init__(self, base_url: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        parts = urlsplit(url)
        url = urlunsplit(
            parts._replace(scheme=self._scheme, netloc=self._netloc, path=self._prefix + parts.path)
        )
        return super().request(method, url, *args, **kwargs)


def twilio_client(
    account_sid: str,
    auth_token: str,
    *,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> TwilioClient:
    """A ``twilio.rest.Client`` with a timeout, optionally sent to ``base_url`` instead."""
    http: TwilioHttpClient
    if base_url:
        http = RebasingHttpClient(base_url, timeout=timeout)
    else:
        # No max_retries: a retried POST would be a second SMS. Retrying is the relay's call.
        http = TwilioHttpClient(timeout=timeout)
    return TwilioClient(account_sid, auth_token, http_client=http)


def _twilio_error(exc: TwilioException) -> SendError:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or str(exc)
    reason = f"Twilio {status} error {code}: {text}"
    if not isinstance(status, int):
        return TransientSendError(reason, code=code, maybe_sent=True)
    if status >= 500:
        # Twilio does not promise that a 5xx created nothing: reconcile before retrying.
        return TransientSendError(reason, code=code, maybe_sent=True)
    if status == 429 or code == 20429:
        return TransientSendError(reason, code=code)
    if status == 401 or code == 20003:
        # Wrong credentials say nothing about the message: it goes out once they are fixed.
        return TransientSendError(
            f"{reason} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)", code=code
        )
    # 21211 invalid 'To', 21610 unsubscribed (STOP), 21614 not a mobile number, 21408 region not
    # enabled, 21617 body too long, ...: the same request will fail the same way.
    return PermanentSendError(reason, code=code)


def _call_twilio(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _twilio_error(exc) from exc
    except requests.exceptions.RequestException as exc:
        raise _network_error("Twilio", exc) from exc


class _TwilioSender:
    #: How far before ``since`` a provider record may be dated and still count: clocks differ.
    CLOCK_SLACK = timedelta(minutes=2)

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        default_from: str | None = None,
        base_url: str | None = None,
        status_callback: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        client: TwilioClient | None = None,
    ) -> None:
        self.client = client or twilio_client(
            account_sid, auth_token, base_url=base_url, timeout=timeout
        )
        self.default_from = default_from
        self.status_callback = status_callback

    def _from(self, msg: OutboundMessage) -> str:
        from_number = msg.from_number or self.default_from
        if not from_number:
            raise PermanentSendError(
                f"no from-number for {msg.channel} message {msg.key}: the line has no phone "
                "number and TWILIO_FROM_NUMBER is not set"
            )
        return from_number

    def _callback(self, msg: OutboundMessage) -> str | None:
        if not self.status_callback:
            return None
        return _with_query(self.status_callback, outbox_key=msg.key)


class TwilioSmsSender(_TwilioSender):
    """SMS through Twilio's Messages API (``client.messages.create``)."""

    def send(self, msg: OutboundMessage) -> SendResult:
        if not msg.text.strip():
            raise PermanentSendError(f"SMS {msg.key} has no text")
        from_number = self._from(msg)
        created = _call_twilio(
            lambda: self.client.messages.create(
                to=msg.to,
                from_=from_number,
                body=msg.text,
                status_callback=self._callback(msg),
            )
        )
        logger.debug("SMS %s to %s accepted by Twilio as %s", msg.key, _mask(msg.to), created.sid)
        return SendResult(provider_id=created.sid, detail=f"twilio {created.status}")

    def find_sent(self, msg: OutboundMessage, since: datetime) -> SendResult | None:
        """The Twilio message that an unrecorded attempt (started at ``since``) created, if any.

        Matches on To, From, body and creation time, newest first. Two identical texts to the
        same number within minutes are indistinguishable: fine for deciding "do not resend".
        Raises ``TransientSendError`` when Twilio cannot be asked right now.
        """
        from_number = self._from(msg)
        earliest = _aware(since) - self.CLOCK_SLACK
        rows = _call_twilio(
            lambda: self.client.messages.list(to=msg.to, from_=from_number, limit=50)
        )
        for row in rows:
            # No early exit: Twilio sorts by date sent, and a still-queued message has none.
            if row.date_created is not None and row.date_created < earliest:
                continue
            if row.body == msg.text:
                return SendResult(provider_id=row.sid, detail=f"twilio {row.status} (found)")
        return None


class TwilioCallSender(_TwilioSender):
    """Outbound calls (automated survey calls, 回访) through Twilio's Calls API."""

    def send(self, msg: OutboundMessage) -> SendResult:
        from_number = self._from(msg)
        if msg.twiml_url:
            how: dict[str, str] = {"url": msg.twiml_url}
        elif msg.text.strip():
            # No survey flow given: read the text out in Mandarin.
            response = VoiceResponse()
            response.say(msg.text, **MANDARIN_VOICE)
            how = {"twiml": str(response)}
        else:
            raise PermanentSendError(f"call {msg.key} has neither a TwiML URL nor text")
        created = _call_twilio(
            lambda: self.client.calls.create(
                to=msg.to,
                from_=from_number,
                status_callback=self._callback(msg),
                **how,
            )
        )
        logger.debug("call %s to %s accepted by Twilio as %s", msg.key, _mask(msg.to), created.sid)
        return SendResult(provider_id=created.sid, detail=f"twilio call {created.status}")

    def find_sent(self, msg: OutboundMessage, since: datetime) -> SendResult | None:
        """The call to this number from the line's number created since ``since``, if any."""
        from_number = self._from(msg)
        earliest = _aware(since) - self.CLOCK_SLACK
        rows = _call_twilio(lambda: self.client.calls.list(to=msg.to, from_=from_number, limit=20))
        for row in rows:
            if row.date_created is not None and row.date_created >= earliest:
                return SendResult(provider_id=row.sid, detail=f"twilio call {row.status} (found)")
        return None


