"""Tables of the follow-up: the outbox of outward messages, surveys (回访), the operators'
call-back tasks, and the departments' points ledger (积分)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .core import Case
from .types import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """An outward message or job, written in the same transaction as the change that causes it;
    a relay moves it to the workers. Never deleted: it is also the record of what was sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms, wechat, voice, log
    purpose: Mapped[str] = mapped_column(String(16))  # notify, survey, remind, ack, escalate
    recipient: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending → sending → sent; failed (will retry); dead (gave up; staff may retry)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    # Makes "the same message" impossible to write twice (e.g. "notify:<case>:<event id>").
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship()


class Survey(db.Model):
    """A satisfaction survey (回访) of a closed case: 满意 / 基本满意 / 不满意."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)  # a reopened case is surveyed again
    channel: Mapped[str] = mapped_column(String(16))  # how it was sent: wechat, sms, voice, web
    recipient: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[str | None] = mapped_column(String(32))  # satisfied, basically_satisfied, unsatisfied
    comment: Mapped[str | None] = mapped_column(Text)
    answer_channel: Mapped[str | None] = mapped_column(String(16))
    # Set when a supervisor has dealt with an unsatisfied answer (reopened or not).
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()


class CallbackTask(db.Model):
    """A call an operator must make: a missed call (回拨), a survey by phone, a recording to
    call back about."""

    __tablename__ = "callback_tasks"
    __table_args__ = (Index("ix_callback_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # missed_call, survey, recording
    phone: Mapped[str | None] = mapped_column(String(32))
    line_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case | None] = relationship()


class PointsEntry(db.Model):
    """One line of a department's points ledger (积分) for the periodic bulletin."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # overdue, overdue_after_reminder, ...
    points: Mapped[int] = mapped_column(Integer)  # negative: a deduction
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
