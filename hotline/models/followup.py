"""Tables of the follow-up: the outbox of outward messages, surveys (回访), the operators'
call-back tasks, the departments' points ledger (积分), and the marks the supervision sweep
leaves on cases it reminded (催办) or escalated (督办)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..domain import phones
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
    # pending → sending → sent; failed (will retry); dead (gave up; staff may retry);
    # unknown (an attempt was cut off and the provider cannot be asked: staff decide);
    # cancelled (staff gave it up).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    # When the latest attempt started: committed before the provider is called, so that a
    # worker killed mid-send leaves the row in "sending" with the time to reconcile from.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The latest attempt may have reached the provider (timeout, 5xx): ask it before resending.
    maybe_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the relay last put it on an RQ queue; a job lost with Redis is queued again later.
    relayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Who last retried, confirmed or cancelled it by hand, and why.
    handled_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # Makes "the same message" impossible to write twice (e.g. "notify:<case>:<event id>").
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship()


class Survey(db.Model):
    """A satisfaction survey (回访) of a closed case: 满意 / 基本满意 / 不满意."""

    __tablename__ = "surveys"
    # The reminder sweep and the supervisor's "unsatisfied" list both start from open answers.
    __table_args__ = (Index("ix_surveys_answer", "answered_at", "sent_at"),
                      Index("ix_surveys_rating", "rating", "handled_at"))

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
    # Set when the case was reopened (重办) before this survey was answered: the round it asked
    # about is over, and a late answer is refused (the next closing asks again).
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

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

    @validates("phone")
    def _phone(self, key: str, value: str | None) -> str | None:
        return phones.stored(value)  # E.164 (hotline/domain/phones.py)

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

    case: Mapped[Case | None] = relationship()


class SupervisionMark(db.Model):
    """One reminder (催办) or escalation (督办) the sweep gave a case for one deadline.

    Unique per case, kind and deadline: however often the sweep runs, a deadline gets one
    reminder and one escalation; a deadline moved by an extension or a reopening gets its own.
    Kept apart from the case row so that the sweep never bumps a case's version under a
    handler who is editing it.
    """

    __tablename__ = "supervision_marks"
    __table_args__ = (UniqueConstraint("case_id", "kind", "deadline",
                                       name="uq_supervision_marks_case_kind_deadline"),
                      Index("ix_supervision_marks_sweep", "sweep", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(24))  # remind_accept, remind_reply, escalate_...
    deadline: Mapped[dt.date] = mapped_column(Date)
    department_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sweep: Mapped[str] = mapped_column(String(32))  # the sweep run that made it

    case: Mapped[Case] = relationship()


# The sweep's "not yet signed for" query reads dispatched cases by their signing deadline and
# how far it has gone with it; the index belongs to the cases table but is declared here, with
# the query that needs it.
Index("ix_cases_status_accept_mark", Case.__table__.c.status, Case.__table__.c.accept_due_date,
      Case.__table__.c.accept_mark)
