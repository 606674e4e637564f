"""Tables of the Open311 channel: the API keys the admin issues to client applications, and
what a client sent with each service request beyond the case itself (location, contact)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models import Case
from hotline.models.types import UTCDateTime, utcnow


class Open311ApiKey(db.Model):
    """A key for one client application (a city app, a partner's reporting tool)."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    contact: Mapped[str | None] = mapped_column(String(200))
    # sha256 of a 256-bit random key: enough for a secret of that entropy, and one indexed lookup.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so that an admin can tell keys apart in a listing.
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def issue(self) -> str:
        key = "o311_" + secrets.token_urlsafe(32)
        self.key_hash = self.hash_key(key)
        self.key_prefix = key[:12]
        return key

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Open311Request(db.Model):
    """What an Open311 client sent with a service request that the case has no field for."""

    __tablename__ = "open311_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("open311_api_keys.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    address_string: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    api_key: Mapped[Open311ApiKey] = relationship()
