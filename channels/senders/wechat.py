"""WeChat messages (wechatpy): customer-service messages inside the 48-hour window after the
citizen last wrote, template messages outside it, with the account's access token shared
between workers through Redis."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from redis.exceptions import RedisError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

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
)

logger = logging.getLogger(__name__)

#: WeChat lets an account send customer-service messages for 48 hours after the citizen wrote.
WECHAT_WINDOW = timedelta(hours=48)


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


