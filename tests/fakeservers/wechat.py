"""A local server that speaks WeChat's official-account API (``/cgi-bin/...``) as wechatpy uses it.

Covered: ``GET /cgi-bin/token`` (one valid token at a time, as fetching a new token invalidates
the old), customer-service messages (``message/custom/send``) with the 48-hour window (errcode
45015 for openids the test marks outside it, or unsubscribed), template messages
(``message/template/send``, 43004 for unsubscribed openids, 40037 for unknown template ids when
a set of known ids is given), ``menu/create`` and ``menu/get``, and ``media/get`` for media a
test registered. Every call but the token checks ``access_token``: 41001 missing, 40001 wrong or
no longer the latest, 42001 expired.

Point ``WeChatClient.API_BASE_URL`` at ``fake.api_base`` (``http://127.0.0.1:PORT/cgi-bin/``).
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from ._http import FakeHTTPServer, RecordedRequest, Reply

ERRORS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}


def wechat_error(errcode: int, errmsg: str | None = None) -> Reply:
    """WeChat answers errors with HTTP 200 and an errcode, plus a request id in errmsg."""
    message = errmsg or ERRORS.get(errcode, "error")
    return Reply.json(200, {"errcode": errcode, "errmsg": f"{message} rid: {secrets.token_hex(6)}"})


OK = {"errcode": 0, "errmsg": "ok"}


class Refused(Exception):
    """A request the API refuses: `reply` is its answer (an errcode)."""

    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.reply = wechat_error(errcode)


class FakeWeChat(FakeHTTPServer):
    """Fake WeChat official-account API.

    ``sent`` holds the messages it accepted (``{"kind": "custom"|"template", ...payload}``),
    ``token_fetches`` counts ``/cgi-bin/token`` calls that issued a token.
    """

    def __init__(
        self, appid: str = "wx0123456789abcdef", secret: str = "fake-wechat-secret"
    ) -> None:
        super().__init__()
        self.appid = appid
        self.secret = secret
        self.token: str | None = None
        self.token_expired = False
        self.token_fetches = 0
        self.sent: list[dict[str, Any]] = []
        self.outside_window: set[str] = set()
        self.unsubscribed: set[str] = set()
        # Empty: every template id is accepted. Non-empty: others get 40037.
        self.known_templates: set[str] = set()
        self.menu: dict[str, Any] | None = None
        self.media: dict[str, tuple[bytes, str]] = {}
        self._msgids = itertools.count(2_000_000_001)

    @property
    def api_base(self) -> str:
        """Value for ``WeChatClient.API_BASE_URL`` / the ``WECHAT_API_BASE`` setting."""
        return f"{self.url}/cgi-bin/"

    def config(self) -> dict[str, str]:
        """The app's settings that point its WeChat sender at this fake."""
        return {"WECHAT_APPID": self.appid, "WECHAT_SECRET": self.secret,
                "WECHAT_API_BASE": self.api_base}

    # -- test controls -----------------------------------------------------------------------

    def fail_next(  # type: ignore[override]
        self,
        n: int = 1,
        *,
        status: int = 200,
        errcode: int = -1,
        errmsg: str | None = None,
        path: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``n`` requests with an error.

        ``fake.fail_next()`` gives errcode -1 ("system error", WeChat's "busy, retry");
        ``fake.fail_next(status=502)`` an HTTP error; ``path`` (e.g. ``"message/custom"``)
        limits it to matching requests.
        """
        if status == 200:
            reply = wechat_error(errcode, errmsg)
        else:
            reply = Reply(status, b"<html><body>Bad Gateway</body></html>", "text/html")
        super().fail_next(n, reply=reply, path=path, delay=delay)

    def mark_outside_window(self, *openids: str) -> None:
        """Customer-service messages to these openids get 45015 from now on."""
        self.outside_window.update(openids)

    def unsubscribe(self, *openids: str) -> None:
        self.unsubscribed.update(openids)

    def issue_token(self) -> str:
        """Issue a fresh token (invalidating the previous one), as ``/cgi-bin/token`` does."""
        with self._lock:
            self.token = "FAKE_" + secrets.token_urlsafe(48)
            self.token_expired = False
            return self.token

    def expire_token(self) -> None:
        """The current token now answers 42001, as after its 7200 s."""
        self.token_expired = True

    def add_media(self, media_id: str, content: bytes, content_type: str = "audio/amr") -> None:
        self.media[media_id] = (content, content_type)

    def sent_to(self, openid: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m.get("touser") == openid]

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.token = None
            self.token_expired = False
            self.token_fetches = 0
            self.sent.clear()
            self.outside_window.clear()
            self.unsubscribed.clear()
            self.known_templates.clear()
            self.menu = None
            self.media.clear()

    # -- the API -----------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        endpoint = request.path.removeprefix("/cgi-bin/")
        if endpoint == request.path:
            return Reply(404, b"not found", "text/plain")
        if endpoint == "token":
            return self._token(request)
        token = request.query.get("access_token")
        if not token:
            return wechat_error(41001)
        if token != self.token:
            return wechat_error(40001)
        if self.token_expired:
            return wechat_error(42001)
        route = {
            ("POST", "message/custom/send"): self._custom_send,
            ("POST", "message/template/send"): self._template_send,
            ("POST", "menu/create"): self._menu_create,
            ("GET", "menu/get"): self._menu_get,
            ("GET", "media/get"): self._media_get,
        }.get((request.method, endpoint))
        if route is None:
            return Reply(404, b"not found", "text/plain")
        try:
            return route(request)
        except Refused as refused:
            return refused.reply

    def _token(self, request: RecordedRequest) -> Reply:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return wechat_error(40002)
        if query.get("appid") != self.appid:
            return wechat_error(40013)
        if query.get("secret") != self.secret:
            return wechat_error(40125)
        self.token_fetches += 1
        return Reply.json(200, {"access_token": self.issue_token(), "expires_in": 7200})

    def _payload(self, request: RecordedRequest) -> dict[str, Any]:
        """The request's JSON object; `Refused` without one."""
        if not request.body:
            raise Refused(44002)
        if not isinstance(request.json, dict):
            raise Refused(47001)
        return request.json

    def _addressed(self, request: RecordedRequest) -> tuple[dict[str, Any], str]:
        """The payload of a message to one follower and their openid (``touser``, which it
        must name)."""
        data = self._payload(request)
        if not data.get("touser"):
            raise Refused(40003)
        return data, data["touser"]

    def _custom_send(self, request: RecordedRequest) -> Reply:
        data, openid = self._addressed(request)
        msgtype = data.get("msgtype")
        if msgtype not in data or (msgtype == "text" and not data[msgtype].get("content")):
            return wechat_error(47001)
        if openid in self.outside_window or openid in self.unsubscribed:
            return wechat_error(45015)
        self.sent.append({"kind": "custom", **data})
        return Reply.json(200, OK)

    def _template_send(self, request: RecordedRequest) -> Reply:
        data, openid = self._addressed(request)
        template_id = data.get("template_id")
        if not template_id or (self.known_templates and template_id not in self.known_templates):
            return wechat_error(40037)
        if openid in self.unsubscribed:
            return wechat_error(43004)
        msgid = next(self._msgids)
        self.sent.append({"kind": "template", "msgid": msgid, **data})
        return Reply.json(200, {**OK, "msgid": msgid})

    def _menu_create(self, request: RecordedRequest) -> Reply:
        data = self._payload(request)
        if not isinstance(data.get("button"), list) or not data["button"]:
            return wechat_error(47001)
        self.menu = data
        return Reply.json(200, OK)

    def _menu_get(self, request: RecordedRequest) -> Reply:
        if self.menu is None:
            return wechat_error(46003, "menu no exist")
        return Reply.json(200, {"menu": self.menu})

    def _media_get(self, request: RecordedRequest) -> Reply:
        media_id = request.query.get("media_id", "")
        if media_id not in self.media:
            return wechat_error(40007)
        content, content_type = self.media[media_id]
        return Reply(
            200,
            content,
            content_type,
            {"Content-disposition": f'attachment; filename="{media_id}"'},
        )
