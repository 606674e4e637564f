"""`GET/POST /channels/wechat` (the default account) and `/channels/wechat/<account>`.

Order of the checks, cheapest first, so that nothing unsigned or oversized reaches a parser:
the account, the body's declared size (413), the signature (403), the message's freshness,
then decryption (safe and compatible modes; a safe-mode account refuses plain messages) and
parsing. Then the message is stored in the inbox (one short commit) and acknowledged with
`success`: what WeChat was told it delivered is in the database, a failure before the commit
answers 500 (and WeChat retries), and WeChat's retry of a stored message (same MsgId) changes
nothing. A worker runs the conversation (`conversation.from_inbox`) and the reply goes out as
a customer-service message, seconds later, well inside WeChat's 48-hour window.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, request
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature
from werkzeug.exceptions import RequestEntityTooLarge

from hotline import inbox
from hotline.domain.errors import DomainError, Forbidden, NotFound, ValidationFailed

from .accounts import DEFAULT_CODE, Account, find_account, setting
from .inbound import BadSignature, MalformedMessage, decrypt, dedupe_key, read_message

bp = Blueprint("wechat", __name__, url_prefix="/channels/wechat")

#: WeChat's messages are a few hundred bytes (a long text message a few KB); anything near
#: this is not from WeChat.
MAX_BODY = 64 * 1024
#: How far a request's timestamp may be from our clock. In plain mode the signature covers
#: only token, timestamp and nonce, not the body: a captured signature could be replayed with
#: another body, and this bounds how long. 0 switches the check off.
MAX_CLOCK_SKEW = 600


class SignatureRejected(DomainError):
    status = 403
    code = "bad_signature"


@bp.route("", methods=["GET", "POST"], strict_slashes=False,
          defaults={"code": DEFAULT_CODE})
@bp.route("/<code>", methods=["GET", "POST"])
def webhook(code: str) -> Response:
    account = find_account(code)
    if account is None:
        raise NotFound("no WeChat account is configured at this address")
    limit = int(setting("WECHAT_MAX_BODY") or MAX_BODY)
    if request.method == "POST" and request.content_length is not None \
            and request.content_length > limit:
        raise RequestEntityTooLarge(f"a WeChat message is at most {limit} bytes")
    args = request.args
    signature, timestamp, nonce = (args.get("signature", ""), args.get("timestamp", ""),
                                   args.get("nonce", ""))
    _check_signature(account, signature, timestamp, nonce)
    if request.method == "GET":
        # URL verification when the address is set in WeChat's console: echo echostr.
        return Response(args.get("echostr", ""), mimetype="text/plain")
    _check_fresh(timestamp)
    body = _read_body(limit)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if account.safe_mode and not encrypted:
        _warn("plain message to a safe-mode account", account)
        raise SignatureRejected("this account accepts encrypted messages only (safe mode)")
    if encrypted and not account.safe_mode:
        raise ValidationFailed("encrypted message, but this account has no AES key configured")
    try:
        xml = (decrypt(account, body, args.get("msg_signature", ""), timestamp, nonce)
               if encrypted else body)
        msg = read_message(xml)
    except BadSignature:
        _warn("bad msg_signature", account)
        raise SignatureRejected("the message signature does not match") from None
    except MalformedMessage as exc:
        current_app.logger.warning("WeChat %s: malformed message refused: %s", account.code, exc)
        raise ValidationFailed(f"malformed message: {exc}") from None
    inbox.receive("wechat", dedupe_key(account.code, msg), msg.openid,
                  {"account": account.code, "xml": xml.decode("utf-8", errors="replace")})
    return Response("success", mimetype="text/plain")


def _read_body(limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes. A body without Content-Length (chunked)
    is read only up to one byte past the limit: werkzeug would silently cut it at its
    max_content_length instead of refusing it."""
    stream = request.stream
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge(f"a WeChat message is at most {limit} bytes")
    return b"".join(parts)


def _check_signature(account: Account, signature: str, timestamp: str, nonce: str) -> None:
    if not (signature and timestamp and nonce):
        _warn("missing signature", account)
        raise SignatureRejected("signature, timestamp and nonce are required")
    try:
        check_signature(account.token, signature, timestamp, nonce)
    except InvalidSignatureException:
        _warn("bad signature", account)
        raise SignatureRejected("the signature does not match") from None


def _check_fresh(timestamp: str) -> None:
    skew = setting("WECHAT_MAX_CLOCK_SKEW")
    skew = MAX_CLOCK_SKEW if skew is None else skew
    if not int(skew):
        return
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > int(skew):
        raise Forbidden("the request's timestamp is too far from the server's clock")


def _warn(what: str, account: Account) -> None:
    current_app.logger.warning("WeChat %s: %s from %s", account.code, what, request.remote_addr)
