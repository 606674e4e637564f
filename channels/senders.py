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
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from redis.exceptions import RedisError
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client as TwilioClient
from twilio.twiml.voice_response import VoiceResponse
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from hotline.config import setting

logger = logging.getLogger(__name__)

#: WeChat lets an account send customer-service messages for 48 hours after the citizen wrote.
WECHAT_WINDOW = timedelta(hours=48)
#: Seconds to wait for a provider. Twilio answers creates in well under a second; a worker stuck
#: far longer holds a job slot and the message is better retried (after reconciliation).
DEFAULT_TIMEOUT = 10.0
#: Mandarin text-to-speech for calls that have no TwiML URL of their own.
MANDARIN_VOICE = {"voice": "Polly.Zhiyu", "language": "cmn-CN"}

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


# -- WeChat ------------------------------------------------------------------------------------

# Token rejected: fetch a new one (unless another process already did) and try once more.
_TOKEN_ERRORS = {40001, 40014, 42001}
# Errors that a configuration fix (or time) cures: appid/secret, IP allow-list, quota, busy.
_WECHAT_TRANSIENT = {-1, 40013, 40125, 40164, 41001, 45009, 45011, 50001, 50002}
# Customer-service message refused because of the window or the per-window count: a template
# message may still reach the citizen.
_WINDOW_ERRORS = {45015, 45047}
_CURRENT = object()


class SharedTokenWeChatClient(WeChatClient):
    """A ``WeChatClient`` whose access token is shared by every process through Redis.

    Why not wechatpy's own ``fetch_access_token``: in 1.8.18 it calls a hard-coded
    ``https://api.weixin.qq.com/cgi-bin/token`` without a timeout, so a slow WeChat would hang a
    worker and tests could not serve the token. Here the token comes from ``API_BASE_URL`` with
    the client's timeout, and under a Redis lock: WeChat invalidates the previous token when a
    new one is issued and caps fetches per day, so processes must not refresh it side by side.
    The token is kept in Redis a little shorter than WeChat's ``expires_in`` so nobody uses one
    in its last minutes.
    """

    #: Seconds before WeChat's expiry at which the shared token is dropped.
    TOKEN_MARGIN = 300

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        redis: Any | None,
        api_base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        key_prefix: str = "hotline:wechat",
    ) -> None:
        session = RedisStorage(redis, prefix=key_prefix) if redis is not None else MemoryStorage()
        # auto_retry off: wechatpy's own retry on a rejected token recurses without bound and
        # refetches even when another process has just done so; WeChatSender retries once.
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        if api_base_url:
            self.API_BASE_URL = api_base_url if api_base_url.endswith("/") else api_base_url + "/"
        self._redis = redis
        self._lock_name = f"{key_prefix}:{appid}_access_token:lock"

    @property
    def access_token(self) -> str:
        # expires_at stays None: Redis' TTL alone decides when the shared token is gone.
        token = self.session.get(self.access_token_key)
        if token:
            return token
        return self.refresh_access_token(rejected=None)

    def refresh_access_token(self, rejected: str | None) -> str:
        """Get a new token, unless another process replaced ``rejected`` meanwhile."""
        if self._redis is None:
            return self._fetch_token(rejected)
        timeout = (self.timeout or DEFAULT_TIMEOUT) + 5
        with self._redis.lock(self._lock_name, timeout=timeout, blocking_timeout=timeout):
            return self._fetch_token(rejected)

    def fetch_access_token(self) -> dict[str, Any]:
        token = self.refresh_access_token(rejected=self.session.get(self.access_token_key))
        return {"access_token": token}

    def _fetch_token(self, rejected: str | None) -> str:
        current = self.session.get(self.access_token_key)
        if current and current != rejected:
            return current
        response = self._http.get(
            self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(
                result["errcode"], result.get("errmsg"), client=self, response=response
            )
        token = result["access_token"]
        ttl = max(int(result.get("expires_in", 7200)) - self.TOKEN_MARGIN, 60)
        self.session.set(self.access_token_key, token, ttl)
        logger.info("fetched a new WeChat access token for %s", self.appid)
        return token


class WeChatSender:
    """Messages to a citizen's openid through the WeChat official account.

    Inside the 48-hour window after the citizen last wrote: a customer-service text message.
    Outside it (or when WeChat answers 45015/45047 to the customer-service message): a template
    message, if a template id is configured or given with the message; else a
    ``PermanentSendError`` saying so.
    """

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        redis: Any | None,
        api_base_url: str | None = None,
        template_id: str | None = None,
        template_field: str = "content",
        timeout: float = DEFAULT_TIMEOUT,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if redis is None:
            logger.warning("WeChat sender without Redis: each process fetches its own token")
        self.client = SharedTokenWeChatClient(
            appid, secret, redis=redis, api_base_url=api_base_url, timeout=timeout
        )
        self.template_id = template_id
        self.template_field = template_field
        self._now = now or (lambda: datetime.now(UTC))

    def send(self, msg: OutboundMessage) -> SendResult:
        if msg.last_inbound_at is not None and (
            self._now() - _aware(msg.last_inbound_at) < WECHAT_WINDOW
        ):
            try:
                self._call(lambda: self.client.message.send_text(msg.to, msg.text))
            except WeChatClientException as exc:
                if exc.errcode not in _WINDOW_ERRORS:
                    raise _wechat_error(exc) from exc
                window_note = f"customer-service message refused ({exc.errcode})"
            else:
                logger.debug("WeChat message %s sent to %s", msg.key, _mask(msg.to))
                return SendResult(provider_id=None, detail="wechat customer-service message")
        elif msg.last_inbound_at is None:
            window_note = "the citizen has not written to the account"
        else:
            window_note = f"the citizen last wrote at {msg.last_inbound_at.isoformat()}"
        template_id, data, url = self._template(msg)
        if not template_id:
            raise PermanentSendError(
                f"outside WeChat's 48-hour window ({window_note}) and no template message is "
                "configured (WECHAT_TEMPLATE_ID)",
                code=45015,
            )
        try:
            result = self._call(
                lambda: self.client.message.send_template(msg.to, template_id, data, url=url)
            )
        except WeChatClientException as exc:
            raise _wechat_error(exc) from exc
        logger.debug("WeChat template %s sent to %s (%s)", msg.key, _mask(msg.to), window_note)
        msgid = result.get("msgid") if isinstance(result, dict) else None
        return SendResult(
            provider_id=str(msgid) if msgid is not None else None,
            detail=f"wechat template message ({window_note})",
        )

    def _template(self, msg: OutboundMessage) -> tuple[str | None, dict, str | None]:
        template = msg.template or {}
        template_id = template.get("template_id") or self.template_id
        data = template.get("data") or {self.template_field: {"value": msg.text}}
        return template_id, data, template.get("url")

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a WeChat call, fetching a fresh token once if WeChat rejects the current one.

        ``WeChatClientException`` is left to the caller, which knows whether a 45015 means
        "fall back to a template"; network errors become ``TransientSendError`` here.
        """
        token = self._token()
        try:
            try:
                return fn()
            except WeChatClientException as exc:
                if exc.errcode not in _TOKEN_ERRORS:
                    raise
            self._token(rejected=token)
            return fn()
        except requests.exceptions.RequestException as exc:
            raise _network_error("WeChat", exc) from exc
        except RedisError as exc:
            # Reading the shared token comes before the request: nothing went out.
            raise TransientSendError(f"shared WeChat token unavailable: {exc}") from exc

    def _token(self, rejected: str | None | object = _CURRENT) -> str:
        """The shared access token (a new one if ``rejected`` is the current one).

        Failing to get a token means nothing was sent, whatever the cause.
        """
        try:
            if rejected is _CURRENT:
                return self.client.access_token
            return self.client.refresh_access_token(rejected=rejected)  # type: ignore[arg-type]
        except WeChatClientException as exc:
            # 40013/40125 wrong appid/secret, 40164 server IP not on the allow-list, ...
            raise TransientSendError(
                f"WeChat refused the access token (check WECHAT_APPID/WECHAT_SECRET and the IP "
                f"allow-list): {exc.errcode} {exc.errmsg}",
                code=exc.errcode,
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise TransientSendError(f"WeChat access token not fetched: {exc}") from exc
        except RedisError as exc:
            raise TransientSendError(f"shared WeChat token unavailable: {exc}") from exc


def _wechat_error(exc: WeChatClientException) -> SendError:
    code = exc.errcode
    reason = f"WeChat error {code}: {exc.errmsg}"
    if code is None:
        # An HTTP error status from WeChat's front end: the request may have been processed.
        status = getattr(exc.response, "status_code", None)
        return TransientSendError(f"WeChat HTTP {status}", maybe_sent=True)
    if code in _WECHAT_TRANSIENT or code in _TOKEN_ERRORS:
        return TransientSendError(reason, code=code)
    # 40003 invalid openid, 43004 unsubscribed, 40037 unknown template, 45015 with no
    # template, ...: the same request fails the same way.
    return PermanentSendError(reason, code=code)


# -- e-mail -------------------------------------------------------------------------------------

#: SMTP reply codes a later try may cure (mailbox busy, server short of resources, …).
_SMTP_TRANSIENT = range(400, 500)


class EmailSender:
    """Plain-text UTF-8 e-mail through an SMTP server (``smtplib``), for department contacts.

    SMTP has no way to ask whether an earlier, cut-off message was delivered, so a connection
    lost after the DATA command is a "maybe sent" error the relay hands to staff (like WeChat);
    a refusal before DATA means nothing went out.
    """

    def __init__(self, host: str, port: int = 25, *, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def message(self, msg: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = msg.to
        first = msg.text.split("。", 1)[0]
        mail["Subject"] = first if len(first) <= 60 else first[:59] + "…"
        mail["Message-ID"] = f"<outbox-{msg.key}@{self.sender.rpartition('@')[2] or 'hotline'}>"
        mail.set_content(msg.text, charset="utf-8")
        return mail

    def send(self, msg: OutboundMessage) -> SendResult:
        mail = self.message(msg)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.ehlo_or_helo_if_needed()
                code, reply = smtp.mail(self.sender)
                if code != 250:
                    raise _smtp_error(code, reply, "sender refused")
                code, reply = smtp.rcpt(msg.to)
                if code not in (250, 251):
                    raise _smtp_error(code, reply, "recipient refused")
                code, reply = smtp.data(mail.as_bytes())
                if code != 250:
                    raise _smtp_error(code, reply, "message refused")
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientSendError(
                f"SMTP login refused (check SMTP_USERNAME/SMTP_PASSWORD): {exc.smtp_code}",
                code=exc.smtp_code) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientSendError(f"SMTP connection lost: {exc}", maybe_sent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise _smtp_error(exc.smtp_code, exc.smtp_error, "refused") from exc
        except (TimeoutError, OSError) as exc:
            # Before DATA nothing can have gone out; smtplib does not say how far it got, so a
            # timeout counts as "maybe" (the relay then leaves the decision to staff).
            never = isinstance(exc, ConnectionRefusedError | socket.gaierror)
            raise TransientSendError(f"SMTP server unreachable: {exc}",
                                     maybe_sent=not never) from exc
        logger.info("e-mail %s to %s accepted by %s", msg.key, _mask(msg.to), self.host)
        return SendResult(provider_id=str(mail["Message-ID"]), detail="smtp 250")


def _smtp_error(code: int, reply: bytes | str, what: str) -> SendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code} {what}: {text}"
    if code in _SMTP_TRANSIENT:
        return TransientSendError(reason, code=code)
    return PermanentSendError(reason, code=code)


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
