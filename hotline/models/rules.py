"""Routing rules (分类转办规则): which department gets which cases. Data an admin edits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class RoutingRule(db.Model):
    """Cases matching every condition that is set go to `department`.

    `department` is a department code, or "{region}": the government of the case's county if
    it exists, else of its prefecture. The most specific, highest-priority match wins.
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    line: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    topic1: Mapped[str | None] = mapped_column(String(64))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    region_level: Mapped[str | None] = mapped_column(String(16))  # province, prefecture, county
    department: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class RoutingModel(db.Model):
    """A trained topic model (routing/learned.py), stored so that every web and worker process
    loads the active one without a restart, and an admin can switch back to an earlier one."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # How many examples it learned from, by source ("shipped", "case"), and its figures:
    # cross-validated accuracy, per topic, the confidence table, the held-back comparison.
    examples: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
