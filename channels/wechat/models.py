"""Tables of the WeChat channel: accounts added through the admin API, the citizens (openids)
who write to them, and the log of every message received with the reply it got.

They live on the core's metadata (imported by `channels.wechat.init_app`), so the migrations
see them; the schema comes from `hotline/migrations/versions/1000_baseline.py`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from hotline.domain import phones
from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class WeChatAccount(db.Model):
    """An official account (公众号) configured through the admin API.

    The default account comes from the environment (WECHAT_*) and has no row here. The token,
    secret and AES key are stored encrypted with a key derived from SECRET_KEY, so a copy of
    the database alone does not hand out the accounts.
    """

    __tablename__ = "wechat_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The webhook path: /channels/wechat/<code>.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    appid: Mapped[str] = mapped_column(String(32), unique=True)
    token_enc: Mapped[str] = mapped_column(Text)
    secret_enc: Mapped[str | None] = mapped_column(Text)
    aes_key_enc: Mapped[str | None] = mapped_column(Text)
    # The line a message becomes a case on, unless the citizen chose another in the menu.
    line_code: Mapped[str] = mapped_column(ForeignKey("lines.code"))
    # Template message for notices outside the 48-hour window (verified service accounts).
    template_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class WeChatFollower(db.Model):
    """A citizen as one account knows them (openids are per account): when they last wrote
    (WeChat's 48-hour window for customer-service messages), the line they chose, the case
    their next messages add to, and a phone number they confirmed by SMS code."""

    __tablename__ = "wechat_followers"
    __table_args__ = (UniqueConstraint("account_code", "openid"),
                      Index("ix_wechat_followers_openid", "openid"),
                      Index("ix_wechat_followers_phone", "phone"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_code: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    line_code: Mapped[str | None] = mapped_column(String(32))
    # Messages until draft_until add to this case instead of opening a new one.
    draft_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    draft_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A mobile number the citizen proved to own (a code sent by SMS): their cases logged by
    # phone become visible to them here.
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pending_phone: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("phone", "pending_phone")
    def _phone(self, key: str, value: str | None) -> str | None:
        return phones.stored(value)  # E.164 (hotline/domain/phones.py)


class WeChatInbound(db.Model):
    """Every message and event received, with the reply given: a retry from WeChat (same
    MsgId, or same sender, CreateTime and event) finds its row and gets the same answer."""

    __tablename__ = "wechat_inbound"
    __table_args__ = (Index("ix_wechat_inbound_openid", "openid", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_code: Mapped[str] = mapped_column(String(32))
    # "msg:<account>:<MsgId>" or "evt:<account>:<openid>:<CreateTime>:<event>"
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    msg_id: Mapped[str | None] = mapped_column(String(32))
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the conversation made of it: intake, supplement, query, mine, survey, ...
    intent: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The text answered ("" when the answer was `success`).
    reply: Mapped[str] = mapped_column(Text, default="")
    # The message as received (decrypted), for audit.
    body: Mapped[str] = mapped_column(Text)
