"""Plays WeChat's side of the webhook: builds messages as WeChat posts them — signed with the
account's token and, in safe or compatible mode, encrypted with wechatpy's own crypto — and
reads the account's reply back. Used by `hotline wechat-send`, the tests and the benchmark.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto

MODES = ("plain", "compatible", "safe")


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class Request:
    """A request ready to post: query string parameters and body."""

    query: dict[str, str]
    body: bytes


@dataclass
class Simulator:
    token: str
    appid: str | None = None
    aes_key: str | None = None
    mode: str = "plain"
    account_user: str = "gh_0123456789ab"  # the account's original id (ToUserName)
    _ids: Any = field(default_factory=lambda: itertools.count(
        6_000_000_000_000_000_000 + secrets.randbelow(10**15)))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.mode != "plain" and not (self.aes_key and self.appid):
            raise ValueError("safe and compatible modes need the appid and the AES key")

    @property
    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)

    # -- messages as WeChat writes them ----------------------------------------------------

    def message(self, openid: str, msg_type: str, fields: dict[str, str],
                create_time: int | None = None, msg_id: int | None | bool = True) -> str:
        """The plaintext XML of one message (msg_id True: a fresh MsgId; None: no MsgId)."""
        parts = [
            f"<ToUserName>{_cdata(self.account_user)}</ToUserName>",
            f"<FromUserName>{_cdata(openid)}</FromUserName>",
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
            f"<MsgType>{_cdata(msg_type)}</MsgType>",
        ]
        parts += [f"<{k}>{_cdata(v)}</{k}>" for k, v in fields.items()]
        if msg_id is True:
            msg_id = next(self._ids)
        if msg_id:
            parts.append(f"<MsgId>{msg_id}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    def text(self, openid: str, content: str, **kw: Any) -> str:
        return self.message(openid, "text", {"Content": content}, **kw)

    def voice(self, openid: str, media_id: str, recognition: str | None = None,
              **kw: Any) -> str:
        fields = {"MediaId": media_id, "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self.message(openid, "voice", fields, **kw)

    def image(self, openid: str, pic_url: str, media_id: str, **kw: Any) -> str:
        return self.message(openid, "image", {"PicUrl": pic_url, "MediaId": media_id}, **kw)

    def location(self, openid: str, x: str, y: str, label: str, **kw: Any) -> str:
        return self.message(openid, "location", {"Location_X": x, "Location_Y": y,
                                                 "Scale": "15", "Label": label}, **kw)

    def event(self, openid: str, event: str, key: str | None = None, **kw: Any) -> str:
        fields = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self.message(openid, "event", fields, msg_id=None, **kw)

    # -- the request -------------------------------------------------------------------------

    def request(self, xml: str | bytes, *, openid: str | None = None,
                timestamp: str | None = None, nonce: str | None = None) -> Request:
        """Sign (and in safe/compatible mode encrypt) a message as WeChat would post it."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce}
        if openid:
            query["openid"] = openid
        if self.mode == "plain":
            return Request(query, xml if isinstance(xml, bytes) else xml.encode())
        text = xml.decode() if isinstance(xml, bytes) else xml
        envelope = xmltodict.parse(self.crypto.encrypt_message(text, nonce, timestamp))["xml"]
        encrypted = envelope["Encrypt"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if self.mode == "safe":
            body = (f"<xml><ToUserName>{_cdata(self.account_user)}</ToUserName>"
                    f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        else:  # compatible: the plaintext fields and the encrypted copy side by side
            body = text.replace("</xml>", f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        return Request(query, body.encode())

    def verification(self, echostr: str = "hotline-echo") -> dict[str, str]:
        """The query of WeChat's URL check (GET)."""
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                "nonce": nonce, "echostr": echostr}

    def read_reply(self, body: bytes | str) -> str:
        """The text the account answered ("" for `success` or an empty body). An encrypted
        reply is checked against its signature and decrypted, as WeChat does."""
        text = body.decode() if isinstance(body, bytes) else body
        if text.strip() in ("", "success"):
            return ""
        data = xmltodict.parse(text)["xml"]
        if "Encrypt" in data:
            plain = self.crypto.decrypt_message(text, data["MsgSignature"], data["TimeStamp"],
                                                data["Nonce"])
            data = xmltodict.parse(plain)["xml"]
        return data.get("Content") or ""
