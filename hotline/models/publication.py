"""What the public message board shows of a case (公开): the masked text staff approved.

A case is published only when it is closed, its writer consented (``public_consent``) and a
supervisor approved the published version. The published title, question and answer live here;
the case keeps its original content and answer untouched, and every step of publication (draft,
edit, approval, withdrawal) is an event on the case's timeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import Case
from .types import UTCDateTime, utcnow


class PublicationState(StrEnum):
    DRAFT = "draft"  # written or proposed, not on the board
    APPROVED = "approved"  # on the board
    WITHDRAWN = "withdrawn"  # taken off the board by staff


class Publication(db.Model):
    """The published version of one case; at most one per case."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_state_published", "state", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=PublicationState.DRAFT)
    title: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # Digest of the case's content and answer the draft was made from: when the case is reopened
    # and answered again, staff are told the draft no longer matches.
    source_hash: Mapped[str] = mapped_column(String(64))

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    # First time it went on the board; the board sorts by it and a re-approval keeps it.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    case: Mapped[Case] = relationship()

    @staticmethod
    def source_digest(content: str | None, answer: str | None) -> str:
        return hashlib.sha256(f"{content or ''}\x00{answer or ''}".encode()).hexdigest()
