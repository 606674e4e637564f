"""The bulletins table: each periodic bulletin (周调度、月通报、季点评) as it was written, kept
for later — the HTML page with its charts, the XLSX workbook of its tables, and the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models.types import UTCDateTime, utcnow

ALL_LINES = "all"


class Bulletin(db.Model):
    """One bulletin of one period and scope (all lines, or one line). Writing the same period
    and scope again replaces it: the table holds the latest edition of each."""

    __tablename__ = "bulletins"
    __table_args__ = (
        UniqueConstraint("period", "scope", name="uq_bulletins_period_scope"),
        Index("ix_bulletins_kind_start", "kind", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # week, month, quarter, year, range
    period: Mapped[str] = mapped_column(String(32))  # 2026-W44, 2026-10, 2026-Q4
    scope: Mapped[str] = mapped_column(String(32), default=ALL_LINES)  # a line code, or "all"
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    # The moment its figures describe ("overdue now" is as of then).
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
