"""Twilio's status callbacks for what the workers sent (``TWILIO_STATUS_CALLBACK_URL``).

    POST /channels/twilio/outbox-status?outbox_key=<outbox row id>

The senders add ``outbox_key`` to the callback URL of every SMS and call, so the callback names
the outbox row even when the worker died between Twilio accepting the message and recording its
sid (see channels/senders.py). Here the row learns its provider sid (a row left in ``sending``
is thereby known to be sent and must not be sent again) and how delivery went: delivered, or
undelivered/failed (SMS) and busy/no-answer/failed (survey calls), which staff see as ``dead``
with Twilio's reason. A survey call that ends without an answer — not picked up, or picked up
and no key pressed — puts the survey on the operators' call-back list (人工回访).
"""

from __future__ import annotations

import logging

from flask import request

from hotline import outbox, surveys
from hotline.extensions import db
from hotline.models import OutboxMessage, Survey
from hotline.models.types import utcnow

from . import twiml
from .blueprint import bp, field, writes_first
from .security import twilio_webhook

logger = logging.getLogger(__name__)

#: Twilio took it (and may have delivered it): the row is sent.
ACCEPTED = frozenset({"accepted", "queued", "scheduled", "sending", "sent", "delivered", "read",
                      "receiving", "received", "initiated", "ringing", "in-progress",
                      "answered", "completed"})
#: It will not reach the citizen as it is.
UNDELIVERED = frozenset({"undelivered", "failed", "busy", "no-answer", "canceled"})
REASONS = {"undelivered": "短信未送达", "failed": "发送失败", "busy": "对方忙线",
           "no-answer": "无人接听", "canceled": "呼叫已取消"}


def _row() -> OutboxMessage | None:
    key = (request.args.get("outbox_key") or "").strip()
    if not key.isdigit():
        return None
    return db.session.get(OutboxMessage, int(key))


@bp.post("/outbox-status")
@twilio_webhook
@writes_first
def outbox_status():
    row = _row()
    sid = field("MessageSid") or field("SmsSid") or field("CallSid")
    status = (field("MessageStatus", size=32) or field("SmsStatus", size=32)
              or field("CallStatus", size=32) or "").lower()
    if row is None:
        logger.warning("status %s of %s names no outbox row (%s)", status, sid,
                       request.args.get("outbox_key"))
        return twiml.twiml()
    if sid and not row.provider_id:
        row.provider_id = sid
    delivery = dict((row.payload or {}).get("delivery") or {})
    if status in ACCEPTED:
        if row.status in ("pending", "sending", "failed", "unknown"):
            # Twilio has it: a row the worker never got to record must not go out again.
            row.status = "sent"
            row.sent_at = row.sent_at or utcnow()
            row.maybe_sent = False  # no longer a question: Twilio says it has it
        if status in ("delivered", "read", "completed"):
            delivery.update(status=status, at=utcnow().isoformat())
    elif status in UNDELIVERED:
        code = field("ErrorCode", size=16)
        reason = f"Twilio {status}" + (f" {code}" if code else "") + f"：{REASONS[status]}"
        delivery.update(status=status, error_code=code, at=utcnow().isoformat())
        if row.status in ("sending", "sent", "failed", "unknown"):
            row.status = "dead"
            row.last_error = reason
        logger.info("outbox %s (%s) not delivered: %s", row.id, sid, reason)
    else:
        logger.info("outbox %s: Twilio status %r noted", row.id, status)
    if delivery:
        row.payload = {**(row.payload or {}), "delivery": delivery}
    if row.channel == "voice" and row.purpose == "survey" and \
            (status in UNDELIVERED or status == "completed"):
        _survey_call_over(row, status)
    db.session.commit()
    return twiml.twiml()


def _survey_call_over(row: OutboxMessage, status: str) -> None:
    """A survey call that ended without a key pressed goes to an operator (人工回访)."""
    survey = db.session.get(Survey, (row.payload or {}).get("survey_id") or 0)
    if survey is None:
        return
    why = "自动回访电话" + REASONS.get(status, "接通但未按键评价")
    if surveys.hand_to_operator(survey, why) is None:
        return
    logger.info("survey %s handed to the operators: %s", survey.id, why)
    if row.status == "dead":
        # Not a dead letter for staff to retry: the operators' call-back list has it now.
        outbox.resolve_message(row, "cancelled", "system", f"{why}，已转人工回访")

