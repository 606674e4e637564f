"""Co-handling (协办/会办): the departments that help the lead department with a case.

The lead department (`Case.department_code`) answers the citizen; each co-handling department
sees the case and adds its part of the answer (协办意见), due a few working days before the
lead's answer (`hotline.domain.lifecycle.cohandler_due_date`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .core import Case


class CaseCohandler(db.Model):
    """One co-handling department of a case, and the part of the answer it gave."""

    __tablename__ = "case_cohandlers"
    __table_args__ = (UniqueConstraint("case_id", "department_code",
                                       name="uq_case_cohandlers_department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(100))
    # The part is due by the end of this local day.
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    # The latest part given (every part is also on the case's timeline).
    part_text: Mapped[str | None] = mapped_column(Text)
    part_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    part_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[Case] = relationship(back_populates="cohandlers")
