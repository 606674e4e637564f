"""Reading what WeChat posts: signature and decryption with wechatpy, then the message parsed
by wechatpy and checked field by field, so that no XML, however hostile, gets further than a
`MalformedMessage`.

What the guards are for (wechatpy 1.8.18 parses with xmltodict on expat):
- control characters make expat raise `ExpatError`;
- xmltodict refuses entity declarations (`ValueError`), which stops entity expansion and
  external entities; a DOCTYPE without entities would still pass, and WeChat never sends one,
  so any DOCTYPE or ENTITY is refused before parsing;
- a missing or repeated element turns into KeyError / TypeError / AttributeError inside
  `parse_message`, or a list or dict where a string was expected: all of them end here;
- the body's size is capped by the webhook before it is read, which also bounds the work of
  deeply nested elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from .accounts import Account


class MalformedMessage(Exception):
    """The body is not a message WeChat would send."""


class BadSignature(Exception):
    """The request is not signed with the account's token (or not for this appid)."""


_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_OPENID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_DIGITS = re.compile(r"^\d{1,20}$")


@dataclass(frozen=True)
class Inbound:
    """One message or event, with the fields the conversation uses (all plain strings)."""

    msg_type: str  # text, image, voice, video, shortvideo, location, link, event, ...
    openid: str  # FromUserName
    account_user: str  # ToUserName: the account's original id, the reply's sender
    create_time: int
    msg_id: str | None = None
    event: str | None = None  # subscribe, unsubscribe, click, view, scan, subscribe_scan, ...
    event_key: str | None = None
    content: str | None = None
    recognition: str | None = None
    media_id: str | None = None
    pic_url: str | None = None
    format: str | None = None
    label: str | None = None
    location_x: str | None = None
    location_y: str | None = None
    title: str | None = None
    url: str | None = None
    description: str | None = None


def refuse_declarations(body: bytes) -> None:
    if _DECLARATION.search(body):
        raise MalformedMessage("XML declarations (DOCTYPE, ENTITY) are not accepted")


def decrypt(account: Account, body: bytes, msg_signature: str, timestamp: str,
            nonce: str) -> bytes:
    """The plaintext XML of a safe-mode (or compatible-mode) message.

    A wrong msg_signature, or a message for another appid, raises `BadSignature`; a body that
    cannot be the envelope or does not decrypt raises `MalformedMessage`.
    """
    refuse_declarations(body)
    try:
        xml = account.crypto().decrypt_message(body, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise BadSignature(type(exc).__name__) from exc
    except Exception as exc:
        raise MalformedMessage(f"cannot decrypt: {type(exc).__name__}") from exc
    data = xml.encode() if isinstance(xml, str) else xml
    refuse_declarations(data)
    return data


def _text(data: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise MalformedMessage(f"{name} is missing")
        return None
    if not isinstance(value, str):  # a repeated or nested element
        raise MalformedMessage(f"{name} is not a single text element")
    return value


def read_message(xml: bytes) -> Inbound:
    """Parse a (decrypted) message with wechatpy's parser and check its fields."""
    refuse_declarations(xml)
    try:
        message = parse_message(xml)
    except (ExpatError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise MalformedMessage(f"not a WeChat message: {type(exc).__name__}") from exc
    if message is None:
        raise MalformedMessage("empty body")
    data = message._data  # the parsed element dict; checked here instead of trusting fields
    if not isinstance(data, dict):
        raise MalformedMessage("not a WeChat message")
    openid = _text(data, "FromUserName", required=True) or ""
    if not _OPENID.match(openid):
        raise MalformedMessage("FromUserName is not an openid")
    create_time = _text(data, "CreateTime", required=True) or ""
    if not _DIGITS.match(create_time):
        raise MalformedMessage("CreateTime is not a number")
    msg_id = _text(data, "MsgId")
    if msg_id is not None and not _DIGITS.match(msg_id):
        raise MalformedMessage("MsgId is not a number")
    msg_type = (_text(data, "MsgType", required=True) or "").lower()
    event = None
    if msg_type == "event":
        # wechatpy's reading of the event (a qrscene_… subscription becomes subscribe_scan)
        event = (getattr(message, "event", None) or _text(data, "Event") or "").lower()[:64]
    return Inbound(
        msg_type=msg_type[:32],
        openid=openid,
        account_user=_text(data, "ToUserName", required=True) or "",
        create_time=int(create_time),
        msg_id=msg_id,
        event=event or None,
        event_key=_text(data, "EventKey"),
        content=_text(data, "Content"),
        recognition=_text(data, "Recognition"),
        media_id=_text(data, "MediaId"),
        pic_url=_text(data, "PicUrl"),
        format=_text(data, "Format"),
        label=_text(data, "Label"),
        location_x=_text(data, "Location_X"),
        location_y=_text(data, "Location_Y"),
        title=_text(data, "Title"),
        url=_text(data, "Url"),
        description=_text(data, "Description"),
    )


def dedupe_key(account_code: str, msg: Inbound) -> str:
    """Messages carry a MsgId; events only their sender and CreateTime (WeChat's advice)."""
    if msg.msg_id and msg.msg_type != "event":
        return f"msg:{account_code}:{msg.msg_id}"
    return f"evt:{account_code}:{msg.openid}:{msg.create_time}:{msg.event or msg.msg_type}"
