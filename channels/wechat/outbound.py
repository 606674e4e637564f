"""What the workers need to message a WeChat citizen, from what the channel saw inbound.

- `last_inbound_at(channel, openid)`: when the citizen last wrote, clicked or subscribed —
  WeChat's 48-hour window for customer-service messages runs from then. Listed in
  `hotline.wiring.PROVIDERS` ("last_inbound"), so the relay finds it without importing the
  channel.
- `sender_for_recipient(channel, openid, redis)`: for an openid that belongs to an account
  added through the admin API, a `WeChatSender` of that account (listed in
  `hotline.wiring.PROVIDERS`, "sender"); the environment's account is the relay's own sender.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from hotline.extensions import db

from .accounts import Account, find_account, sender_for, setting
from .models import WeChatFollower


def last_inbound_at(channel: str, recipient: str) -> dt.datetime | None:
    """The latest time the citizen with this openid wrote to any of our accounts."""
    if channel != "wechat" or not recipient:
        return None
    return db.session.scalar(
        select(WeChatFollower.last_inbound_at)
        .where(WeChatFollower.openid == recipient, WeChatFollower.last_inbound_at.is_not(None))
        .order_by(WeChatFollower.last_inbound_at.desc().nulls_last()).limit(1))


def account_for_openid(openid: str) -> Account | None:
    code = db.session.scalar(
        select(WeChatFollower.account_code).where(WeChatFollower.openid == openid)
        .order_by(WeChatFollower.last_inbound_at.desc().nulls_last()).limit(1))
    return find_account(code) if code else None


def sender_for_openid(openid: str, redis: Any | None) -> Any | None:
    """A WeChatSender of the account this openid belongs to, or None if unknown here."""
    account = account_for_openid(openid)
    if account is None or not account.appid or not account.secret:
        return None
    key = (account, id(redis), setting("WECHAT_API_BASE"))
    sender = _senders.get(key)
    if sender is None:
        if len(_senders) > 64:  # credentials changed many times: start afresh
            _senders.clear()
        sender = _senders[key] = sender_for(account, redis)
    return sender


def sender_for_recipient(channel: str, recipient: str, redis: Any | None) -> Any | None:
    """The outbox relay's hook: a sender for openids of accounts added by an admin."""
    if channel != "wechat" or not recipient:
        return None
    account = account_for_openid(recipient)
    if account is None or account.source == "environment":
        return None  # the relay's configured WeChat sender is this account's
    return sender_for_openid(recipient, redis)


# Senders kept per account and settings: each holds a client (and its connection pool).
_senders: dict[tuple, Any] = {}
