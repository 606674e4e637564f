"""The inbox: every message a channel acknowledged to its provider, stored before the answer
goes out and worked off by the workers (see `hotline.inbox`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class InboxMessage(db.Model):
    """One inbound message as the provider sent it (WeChat's decrypted XML, Twilio's form),
    committed before the webhook answers; `processed_at` is set in the transaction that did
    what the message asks, so it is done exactly once."""

    __tablename__ = "inbox"
    __table_args__ = (
        # The workers' sweep: what is still to do, oldest first.
        Index("ix_inbox_pending", "processed_at", "id"),
        # One sender's messages are worked in the order they came.
        Index("ix_inbox_sender", "channel", "sender", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # wechat, sms
    # The provider's own name of the message: a retry of it is refused here (MsgId, MessageSid).
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(100))  # openid, phone number
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a worker was last asked to process it (a job lost with Redis is asked again).
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
