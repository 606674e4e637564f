"""Binding a phone to a WeChat follower (绑定手机): a code sent by SMS to the number, typed back
within CODE_MINUTES; then the cases logged for that phone (by an operator, by SMS) are the
citizen's here too. Limited per phone and per openid a day, so it cannot flood a phone."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import func, select

from hotline import outbox
from hotline.domain import phones
from hotline.extensions import db
from hotline.models import Line, OutboxMessage

from . import texts
from .accounts import Account
from .intents import Intent
from .models import WeChatFollower, WeChatInbound
from .outcome import Outcome

CODE_MINUTES = 10
CODE_INTERVAL = dt.timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5
#: Codes per phone number (and per openid) a day: the binding must not be a way to flood
#: somebody's phone with SMS.
CODE_DAILY_LIMIT = 5


def _code_hash(follower: WeChatFollower, phone: str, code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"wechat-bind:{follower.id}:{phone}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def code_pending(follower: WeChatFollower, now: dt.datetime) -> bool:
    return (follower.code_hash is not None and follower.code_sent_at is not None
            and now - follower.code_sent_at < dt.timedelta(minutes=CODE_MINUTES))


def bind(account: Account, follower: WeChatFollower, intent: Intent, key: str,
          now: dt.datetime) -> Outcome:
    phone = intent.phone
    if phone is None:
        return Outcome(texts.bind_help(), "bind_help")
    if follower.code_sent_at is not None and now - follower.code_sent_at < CODE_INTERVAL:
        wait = CODE_INTERVAL - (now - follower.code_sent_at)
        return Outcome(texts.bind_wait(max(1, int(wait.total_seconds()))), "bind_wait")
    day_ago = now - dt.timedelta(days=1)
    sent_to_phone = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.purpose == "verify", OutboxMessage.recipient == phone,
            OutboxMessage.created_at >= day_ago))
    asked_by_openid = db.session.scalar(
        select(func.count()).select_from(WeChatInbound).where(
            WeChatInbound.openid == follower.openid, WeChatInbound.intent == "bind",
            WeChatInbound.received_at >= day_ago))
    if sent_to_phone >= CODE_DAILY_LIMIT or asked_by_openid >= CODE_DAILY_LIMIT:
        return Outcome("今天获取验证码的次数已达上限，请明天再试。", "bind_limit")
    code = f"{secrets.randbelow(10**6):06d}"
    follower.pending_phone = phone
    follower.code_hash = _code_hash(follower, phone, code)
    follower.code_sent_at = now
    follower.code_attempts = 0
    line_code = follower.line_code or account.line_code
    # Sent from the number of the citizen's line, which they know (the relay's "from_number").
    from_number = db.session.scalar(select(Line.phone_number).where(Line.code == line_code))
    outbox.enqueue(None, "sms", phone, texts.bind_sms(code, CODE_MINUTES), "verify",
                   dedupe_key=f"wechat-bind:{key}",
                   payload={"line": line_code, "from_number": from_number})
    return Outcome(texts.bind_code_sent(phones.masked(phone), CODE_MINUTES), "bind")


def confirm(follower: WeChatFollower, code: str, now: dt.datetime) -> Outcome:
    phone = follower.pending_phone
    if not phone or not code_pending(follower, now) or \
            follower.code_attempts >= CODE_MAX_ATTEMPTS:
        return Outcome(texts.bind_failed(), "confirm_failed")
    if not hmac.compare_digest(follower.code_hash or "", _code_hash(follower, phone, code)):
        follower.code_attempts += 1
        if follower.code_attempts >= CODE_MAX_ATTEMPTS:
            follower.code_hash = None
        return Outcome(texts.bind_failed(), "confirm_failed")
    follower.phone = phone
    follower.phone_confirmed_at = now
    follower.pending_phone = None
    follower.code_hash = None
    follower.code_attempts = 0
    return Outcome(texts.bind_done(phones.masked(phone)), "confirm")
