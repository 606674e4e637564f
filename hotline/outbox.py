"""Writing outward messages into the outbox, in the caller's transaction.

Whoever changes a case and wants the citizen told calls `enqueue` before committing; the relay
in `workers/` sends what was committed, so a message exists exactly when its cause does.

Each row is named to the providers by `message_key` (its id, as `channels.senders` expects): the
key goes with the send and comes back on Twilio's status callback (`outbox_key=<id>`, handled
by the phone channel).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from . import reference
from .domain import phones
from .domain.errors import IllegalTransition, ValidationFailed
from .extensions import db
from .models import Case, OutboxMessage
from .models.types import utcnow


def enqueue(case: Case | None, channel: str, recipient: str | None, text: str, purpose: str, *,
            dedupe_key: str | None = None, payload: dict[str, Any] | None = None,
            at: dt.datetime | None = None) -> OutboxMessage:
    """Add one outward message to the current transaction (no commit), written at `at` (the
    moment of the step it follows; now by default) and due from then.

    With a `dedupe_key`, a message already written under that key is returned instead of a
    second one — a retried webhook or a repeated sweep cannot message a citizen twice. Inside
    `withheld`, the message is written already cancelled.
    """
    if dedupe_key:
        existing = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is None:  # also look at what this transaction added but has not flushed
            existing = next((m for m in db.session.new if isinstance(m, OutboxMessage)
                             and m.dedupe_key == dedupe_key), None)
        if existing is not None:
            return existing
    at = at or utcnow()
    message = OutboxMessage(case=case, channel=channel, recipient=recipient, text=text,
                            purpose=purpose, payload=payload, status="pending", attempts=0,
                            created_at=at, next_attempt_at=at, dedupe_key=dedupe_key)
    db.session.add(message)
    withholding = _withheld.get()
    if withholding is not None:
        resolve_message(message, "cancelled", withholding.by, withholding.note)
        withholding.count += 1
    return message


@dataclass
class Withholding:
    """Messages written inside `withheld`: by whom and why they are kept back, and how many."""

    by: str
    note: str
    count: int = 0


_withheld: ContextVar[Withholding | None] = ContextVar("hotline_outbox_withheld", default=None)


@contextmanager
def withheld(by: str, note: str) -> Iterator[Withholding]:
    """Steps taken in the block are recorded after the fact (the demo's history): what their
    follow-up writes for citizens and departments stays in the outbox as the record of what
    would have gone out, resolved "cancelled" by `by` with `note` — the state staff give a
    message that is not to go out — so the relay never sends it: nobody gets a text today
    about a step of last month."""
    withholding = Withholding(by, note)
    token = _withheld.set(withholding)
    try:
        yield withholding
    finally:
        _withheld.reset(token)


def withholding() -> bool:
    """Whether messages written now are withheld (inside `withheld`)."""
    return _withheld.get() is not None


def message_key(message: OutboxMessage) -> str:
    """The name a message goes out under (idempotency key, status-callback parameter)."""
    return str(message.id)


def message_for_key(key: str) -> OutboxMessage | None:
    """The outbox row a provider's callback names, or None for a key that is not ours."""
    key = (key or "").strip().removeprefix("outbox-")
    return db.session.get(OutboxMessage, int(key)) if key.isdigit() else None


def department_name(case: Case) -> str:
    """The name of the department that has the case now, as messages say it ("承办单位" when
    it has none). Read by the case's department code, which is what a step changes: the
    `department` relationship is not loaded for a case still being logged (routing's dispatch
    at intake) and keeps what it first loaded when one transaction takes several steps."""
    if not case.department_code:
        return "承办单位"
    department = reference.department(case.department_code)
    return department.name if department is not None and department.name else "承办单位"


def citizen_channel(case: Case) -> tuple[str, str] | None:
    """How to reach the citizen of a case: by the channel they used when it can carry a reply,
    else WeChat when we know their openid, else SMS when we know a mobile number."""
    if case.channel == "wechat" and case.citizen_openid:
        return "wechat", case.citizen_openid
    if case.citizen_phone and phones.is_mobile(case.citizen_phone):
        return "sms", case.citizen_phone
    if case.citizen_openid:
        return "wechat", case.citizen_openid
    return None


# -- staff actions on messages that did not go out (the dead-letter list) ---------------------

RETRY_FROM = ("dead", "unknown", "failed", "cancelled")
RESOLVE_FROM = ("dead", "unknown", "failed", "pending")


def retry_message(message: OutboxMessage, by: str, note: str | None = None) -> OutboxMessage:
    """Send a dead, unknown, failed or cancelled message again, now (no commit).

    For an "unknown" row the person retrying has decided that a second copy is better than
    none, so it is sent without the "maybe already sent" check that would stop it again.
    """
    if message.status not in RETRY_FROM:
        raise IllegalTransition(f"a {message.status} message cannot be retried; "
                                f"only {', '.join(RETRY_FROM)} ones")
    if message.status == "unknown":
        message.maybe_sent = False
    message.status = "pending"
    message.next_attempt_at = utcnow()
    message.handled_by = by
    message.note = note
    return message


def resolve_message(message: OutboxMessage, outcome: str, by: str,
                    note: str | None = None) -> OutboxMessage:
    """Close a message by hand (no commit): "sent" when staff confirmed it arrived (or told
    the citizen another way), "cancelled" when it should not go out any more."""
    if outcome not in ("sent", "cancelled"):
        raise ValidationFailed("outcome is 'sent' or 'cancelled'",
                               {"outcome": ["Must be one of: sent, cancelled."]})
    if message.status not in RESOLVE_FROM:
        raise IllegalTransition(f"a {message.status} message cannot be resolved by hand; "
                                f"only {', '.join(RESOLVE_FROM)} ones")
    message.status = outcome
    message.maybe_sent = False
    if outcome == "sent":
        message.sent_at = message.sent_at or utcnow()
    message.handled_by = by
    message.note = note
    return message


#: Statuses of a message that the relay will still send by itself, once it is due.
WAITING = ("pending", "failed")


@dataclass(frozen=True)
class Backlog:
    """How the outbox stands: messages by status, and how long the oldest message that is due
    has waited (0 when none is due) — it grows without bound when nothing relays or sends."""

    by_status: dict[str, int]
    due: int
    oldest_due_seconds: float


def backlog(now: dt.datetime | None = None) -> Backlog:
    """The outbox's backlog (two indexed queries)."""
    now = now or utcnow()
    o = OutboxMessage
    counts = dict(db.session.execute(select(o.status, func.count()).group_by(o.status)).all())
    due, oldest = db.session.execute(
        select(func.count(), func.min(o.next_attempt_at))
        .where(o.status.in_(WAITING), o.next_attempt_at <= now)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite gives naive UTC back
        oldest = oldest.replace(tzinfo=dt.UTC)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(by_status=counts, due=due, oldest_due_seconds=age)
