"""The account log (登录与账号日志): every sign-in, failure, lock and change to a staff account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuthEvent(db.Model):
    """One entry: what happened (`kind`, hotline.domain.staff.AccountEvent) to which account,
    when, from which address and, for an admin's change, by whom. Kept by name, not by id, so
    a sign-in attempt under a name that does not exist is recorded as typed."""

    __tablename__ = "auth_events"
    __table_args__ = (
        Index("ix_auth_events_user_at", "user_name", "at"),
        Index("ix_auth_events_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_name: Mapped[str] = mapped_column(String(64))
    # The admin who made the change; None for the person's own doing or the command line.
    by_name: Mapped[str | None] = mapped_column(String(64))
    # The client's address; None from the command line.
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(300))
