"""Tables of the phone lines: every call that reached a line, and every SMS a line received.

A call's row follows it from ring to end (greeting, queue, operator or recorded message) and
holds what the reports count (offered, answered within 15 s, abandoned) and what joins a case
(numbers, times, duration, recording). The phone channel writes these rows from Twilio's
webhooks; operators link a call to a case through the staff API.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain import phones
from ..extensions import db
from .core import Attachment, Case, Line
from .types import UTCDateTime, utcnow

# What Twilio puts in `From` when the caller's number is withheld (anonymous, restricted,
# blocked, unknown, unavailable): nobody can be called back on these.
WITHHELD_NUMBERS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696",
                              "+86282452253"})


def callable_number(number: str | None) -> str | None:
    """The caller's number if it can be rung back, else None (withheld, empty, a SIP or
    client address)."""
    value = (number or "").strip()
    if not value or value in WITHHELD_NUMBERS or phones.e164(value) != value:
        return None
    return value


class Stage(StrEnum):
    """Where a call is now."""

    GREETING = "greeting"  # hearing the greeting, not yet in the queue
    QUEUED = "queued"  # waiting for an operator
    RECORDING = "recording"  # asked to leave a message
    CONNECTED = "connected"  # talking to an operator
    ENDED = "ended"


class Outcome(StrEnum):
    """How a call ended, for the reports."""

    ANSWERED = "answered"  # an operator took it
    ABANDONED = "abandoned"  # the caller hung up before anyone answered (回拨)
    MESSAGE = "message"  # the caller left a recorded message (a case)
    NO_MESSAGE = "no_message"  # asked to leave a message, left none (回拨)
    FAILED = "failed"  # Twilio could not complete it


class Call(db.Model):
    """One call to a line (or a survey call from one), identified by Twilio's CallSid."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_line_started", "line_id", "started_at"),
        Index("ix_calls_started", "started_at"),
        Index("ix_calls_from", "from_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    # When the call reached us (Twilio's first webhook): the ring.
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.GREETING)
    outcome: Mapped[str | None] = mapped_column(String(16))
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Seconds in the operators' queue (Twilio's QueueTime), until answered or given up.
    queue_seconds: Mapped[int | None] = mapped_column(Integer)
    # Twilio's CallDuration: the whole call, greeting included.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    queue_result: Mapped[str | None] = mapped_column(String(32))
    twilio_status: Mapped[str | None] = mapped_column(String(32))
    # The operator's leg that took the call out of the queue (its recording names this sid).
    operator_call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(Text)
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    logged_by: Mapped[str | None] = mapped_column(String(64))
    logged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    line: Mapped[Line] = relationship()
    case: Mapped[Case | None] = relationship()

    def timeline_data(self) -> dict[str, Any]:
        """What a case's timeline says about this call."""

        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "call_sid": self.call_sid,
            "direction": self.direction,
            "from": self.from_number,
            "to": self.to_number,
            "line": self.line.code if self.line else None,
            "started_at": iso(self.started_at),
            "answered_at": iso(self.answered_at),
            "ended_at": iso(self.ended_at),
            "queue_seconds": self.queue_seconds,
            "duration_seconds": self.duration_seconds,
            "outcome": self.outcome,
            "recording_url": self.recording_url,
        }

    def attach_recording(self) -> Attachment | None:
        """Put the call's recording on its case, once (keyed by the RecordingSid)."""
        if self.case is None or not self.recording_sid:
            return None
        for existing in self.case.attachments:
            if existing.kind == "recording" and existing.media_id == self.recording_sid:
                return existing
        attachment = Attachment(kind="recording", url=self.recording_url,
                                media_id=self.recording_sid,
                                filename=f"{self.recording_sid}.wav", content_type="audio/wav",
                                size=None, created_at=utcnow())
        self.case.attachments.append(attachment)
        return attachment


class SmsMessage(db.Model):
    """One SMS a line received (MessageSid), what it was taken for and what we answered."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_line_received", "line_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id"))
    from_number: Mapped[str | None] = mapped_column(String(32), index=True)
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # case (a new case), status (a status query), survey (an answer), keyword (STOP, HELP...),
    # help (nothing we could act on)
    intent: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The TwiML <Message> we answered with, given again when Twilio repeats the webhook.
    reply: Mapped[str | None] = mapped_column(Text)

    line: Mapped[Line] = relationship()
    case: Mapped[Case | None] = relationship()
