"""Tables of the core: lines, categories, departments, users, cases and their timelines."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..domain import phones
from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .cohandling import CaseCohandler


NO_DEADLINE = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


class Line(db.Model):
    """An intake programme (线路) with its own number, categories and deadline policy."""

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Prefix of case numbers (FP20261123-0001): short enough to read out over the phone.
    number_prefix: Mapped[str] = mapped_column(String(4))
    phone_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    hours: Mapped[str] = mapped_column(String(32), default="00:00-24:00")
    accept_days: Mapped[int] = mapped_column(Integer, default=1)
    reply_days: Mapped[int] = mapped_column(Integer, default=10)
    remind_days: Mapped[int] = mapped_column(Integer, default=2)
    auto_dispatch_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    categories: Mapped[list[Category]] = relationship(back_populates="line",
                                                      order_by="Category.id")

    @validates("phone_number")
    def _phone(self, key: str, value: str | None) -> str | None:
        return phones.stored(value)  # E.164, as Twilio names the number called


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("line_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # None: the line's number applies.
    accept_days: Mapped[int | None] = mapped_column(Integer)
    reply_days: Mapped[int | None] = mapped_column(Integer)
    remind_days: Mapped[int | None] = mapped_column(Integer)

    line: Mapped[Line] = relationship(back_populates="categories")


class Department(db.Model):
    """A handling unit (承办单位) with its administrative division code."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    # sha256 of a 256-bit random token: a slow hash adds nothing for tokens of that entropy,
    # and an indexed digest lets every request find its user in one lookup.
    # None: no API token (an account for the console only).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Kept with the hash, so a revoked token hears "revoked" rather than "unknown".
    token_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Console sign-in (hotline/identity.py): a slow salted hash, or None (no console access).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Set by an admin's reset: the next sign-in must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every console session carries the number it was signed in under; raising it (sign-out
    # everywhere, deactivation, a new password or role) ends all of them at their next request.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Wrong passwords since the last sign-in; enough of them set `locked_until`
    # (hotline.domain.staff.LockPolicy).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department | None] = relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def issue_token(self) -> str:
        token = "hl_" + secrets.token_urlsafe(32)
        self.token_hash = self.hash_token(token)
        return token


class Case(db.Model):
    """One case (工单): one number, one file (一案一号一档). Cases are never deleted."""

    __tablename__ = "cases"
    __table_args__ = (
        # The sweep's ranges (workers.sweeps): the deadline, then how far the sweep has gone.
        Index("ix_cases_status_due_mark", "status", "due_at", "due_mark"),
        Index("ix_cases_status_due_key", "status", "due_key", "id"),
        Index("ix_cases_department_status_due_key", "department_code", "status", "due_key", "id"),
        Index("ix_cases_department_status", "department_code", "status"),
        Index("ix_cases_received", "received_at"),
        Index("ix_cases_citizen_phone", "citizen_phone"),
        Index("ix_cases_citizen_phone_key", "citizen_phone_key"),
        Index("ix_cases_citizen_openid", "citizen_openid"),
        # The duplicate search at intake: one caller's recent cases, newest first.
        Index("ix_cases_citizen_phone_key_received", "citizen_phone_key", "received_at"),
        Index("ix_cases_citizen_openid_received", "citizen_openid", "received_at"),
        Index("ix_cases_department_assignee", "department_code", "assignee"),
        Index("ix_cases_instruction_due", "instruction_due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    channel: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    topic1: Mapped[str | None] = mapped_column(String(64))
    topic2: Mapped[str | None] = mapped_column(String(64))
    topic3: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="handle")
    status: Mapped[str] = mapped_column(String(16), default="received")
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    region: Mapped[str | None] = mapped_column(String(12))

    citizen_name: Mapped[str | None] = mapped_column(String(100))
    citizen_phone: Mapped[str | None] = mapped_column(String(32))
    # Stored as E.164 however it was written (139-8501-2345 → +8613985012345); beside it, its
    # national digits (13985012345, 85186833668) as the search key. Both set with
    # `citizen_phone` (hotline/domain/phones.py).
    citizen_phone_key: Mapped[str | None] = mapped_column(String(32))
    citizen_openid: Mapped[str | None] = mapped_column(String(64))
    citizen_enterprise: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    public_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 督办件
    priority: Mapped[str] = mapped_column(String(16), default="normal",
                                          server_default="normal")  # urgent: 紧急件
    # The handler inside the department who works on it (users.name), or None.
    assignee: Mapped[str | None] = mapped_column(String(64))
    # When feedback (反馈) on the open leadership instructions (批示) is due: the earliest of
    # their deadlines; None when no instruction waits for feedback.
    instruction_due_date: Mapped[dt.date | None] = mapped_column(Date)

    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Deadlines count from here: received_at, or the reopening (重办).
    deadline_base_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accept_due_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # What `sort=due` orders by: `due_at`, or NO_DEADLINE for a case without one (即时答复), so
    # that it comes after every dated case on both databases (which sort NULL apart) and a page
    # of the list or of a department's queue walks `ix_cases_*_due_key`. Set with `due_at`.
    due_key: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=lambda: NO_DEADLINE)
    # How far the supervision sweep (催办/督办) has gone for the current deadlines: 0 nothing
    # yet, 1 reminded, 2 escalated. Beside the deadline in the sweep's indexes, so that a sweep
    # passes over the cases it has dealt with without reading them; back to 0 when the deadline
    # moves. The sweep's marks (`SupervisionMark`) stay the record of what was done.
    due_mark: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    accept_mark: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    pending_extension_days: Mapped[int | None] = mapped_column(Integer)
    pending_extension_reason: Mapped[str | None] = mapped_column(Text)

    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reply_text: Mapped[str | None] = mapped_column(Text)
    answer_text: Mapped[str | None] = mapped_column(Text)

    # What routing suggested (category, region, department, confidence, reasons).
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # 并单: the lead case this one was merged into; it follows the lead to its answer.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)

    # Scoped by the user who sent it: "<user id>:<key>".
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__: ClassVar[dict] = {"version_id_col": version}

    line: Mapped[Line] = relationship()
    category: Mapped[Category | None] = relationship()
    department: Mapped[Department | None] = relationship()
    duplicate_of: Mapped[Case | None] = relationship(remote_side=[id],
                                                     foreign_keys=[duplicate_of_id])
    merged_into: Mapped[Case | None] = relationship(remote_side=[id],
                                                    foreign_keys=[merged_into_id])
    # 协办: the co-handling departments (hotline/models/cohandling.py).
    cohandlers: Mapped[list[CaseCohandler]] = relationship(
        back_populates="case", order_by="CaseCohandler.id", cascade="save-update, merge")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="save-update, merge")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="save-update, merge")

    @validates("due_at")
    def _due_key(self, key: str, value: dt.datetime | None) -> dt.datetime | None:
        self.due_key = value if value is not None else NO_DEADLINE
        if value != self.due_at:
            self.due_mark = 0
        return value

    @validates("accept_due_date")
    def _accept_moved(self, key: str, value: dt.date | None) -> dt.date | None:
        if value != self.accept_due_date:
            self.accept_mark = 0
        return value

    @validates("citizen_phone")
    def _phone_key(self, key: str, value: str | None) -> str | None:
        value = phones.stored(value)
        self.citizen_phone_key = phones.key(value) or None
        return value

    @property
    def cohandling_departments(self) -> list[str]:
        """The codes of the co-handling departments (协办单位)."""
        return [c.department_code for c in self.cohandlers]

    @property
    def topic(self) -> str | None:
        parts = [p for p in (self.topic1, self.topic2, self.topic3) if p]
        return "/".join(parts) or None


class CaseEvent(db.Model):
    """One step on a case's timeline: who did what, when, with which note."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")


class Attachment(db.Model):
    """A file that belongs to a case: a call recording, a WeChat image, an uploaded document."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # recording, image, voice, document
    url: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="attachments")


class CaseCounter(db.Model):
    """The last sequence number given out per number prefix and day."""

    __tablename__ = "case_counters"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)  # "FP20261123"
    value: Mapped[int] = mapped_column(Integer, default=0)


class ChangeStamp(db.Model):
    """The stamp a table got at its last change through the session (a new random number each
    time, in the change's transaction): processes keep copies of users, lines, departments and
    routing's rules and check them against these (`hotline.reference`)."""

    __tablename__ = "change_stamps"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    stamp: Mapped[int] = mapped_column(BigInteger)


class CalendarYear(db.Model):
    """An admin-set working-day schedule for one year (overrides the packaged calendar)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
