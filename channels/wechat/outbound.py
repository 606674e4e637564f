"""What the workers need to message a WeChat citizen, from what the channel saw inbound.

- `last_inbound_at(channel, openid)`: when the citizen last wrote, clicked or subscribed —
  WeChat's 48-hour window for customer-service messages runs from then. Registered in
  `hotline.outbox.last_inbound_finders` by `init_app`, so the relay finds it without
  importing the channel.
- `account_for_openid(openid)`: which official account knows this openid (openids are per
  account), and `sender_for_openid` a `WeChatSender` for it — for installations with several
  accounts; with one, `channels.senders.build_senders` is enough.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from hotline.extensions import db

from .accounts import Account, find_account, sender_for
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
    return sender_for(account, redis)
