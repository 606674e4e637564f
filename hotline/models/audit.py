"""The audit list of admin changes (管理操作审计): who changed which piece of configuration,
when, through what, and each field's old and new value."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AdminAudit(db.Model):
    """One change to one thing (a department, a rule, a year of the calendar …), written in the
    transaction of the change itself (`hotline.audit`): a change rolled back leaves no entry.

    `changes` is {field: {"old": …, "new": …}}; a secret's value is never stored, only that it
    was set, changed or cleared."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    # api, console, cli, or system (seeding in code, a worker's job)
    via: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))  # user, department, rule, calendar, …
    target: Mapped[str] = mapped_column(String(200))  # the thing's code, name or number
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, or a named step
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
