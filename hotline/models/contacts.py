"""Where a department is told of its cases (承办单位联系人): the mobile numbers, WeChat openids and
e-mail addresses that get a notice when a case is sent to the department, reminded (催办) or
escalated (督办). The notices themselves go through the outbox like every outward message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

CONTACT_CHANNELS = ("sms", "wechat", "email")


class DepartmentContact(db.Model):
    __tablename__ = "department_contacts"
    __table_args__ = (UniqueConstraint("department_code", "channel", "address",
                                       name="uq_department_contacts_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms, wechat, email
    # E.164 mobile number, openid or e-mail address (the outbox's recipient).
    address: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(64))  # who it is: 张科长, 值班室
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
