"""Writing outward messages into the outbox, in the caller's transaction.

Whoever changes a case and wants the citizen told calls `enqueue` before committing; the relay
in `workers/` sends what was committed, so a message exists exactly when its cause does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .extensions import db
from .models import Case, OutboxMessage
from .models.types import utcnow


def enqueue(case: Case | None, channel: str, recipient: str | None, text: str, purpose: str, *,
            dedupe_key: str | None = None, payload: dict[str, Any] | None = None
            ) -> OutboxMessage:
    """Add one outward message to the current transaction (no commit).

    With a `dedupe_key`, a message already written under that key is returned instead of a
    second one — a retried webhook or a repeated sweep cannot message a citizen twice.
    """
    if dedupe_key:
        existing = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is None:  # also look at what this transaction added but has not flushed
            existing = next((m for m in db.session.new if isinstance(m, OutboxMessage)
                             and m.dedupe_key == dedupe_key), None)
        if existing is not None:
            return existing
    message = OutboxMessage(case=case, channel=channel, recipient=recipient, text=text,
                            purpose=purpose, payload=payload, status="pending", attempts=0,
                            next_attempt_at=utcnow(), dedupe_key=dedupe_key)
    db.session.add(message)
    return message


def citizen_channel(case: Case) -> tuple[str, str] | None:
    """How to reach the citizen of a case: by the channel they used when it can carry a reply,
    else WeChat when we know their openid, else SMS when we know a mobile number."""
    if case.channel == "wechat" and case.citizen_openid:
        return "wechat", case.citizen_openid
    if case.citizen_phone and _is_mobile(case.citizen_phone):
        return "sms", case.citizen_phone
    if case.citizen_openid:
        return "wechat", case.citizen_openid
    return None


def _is_mobile(phone: str) -> bool:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return len(digits) == 11 and digits.startswith("1")
