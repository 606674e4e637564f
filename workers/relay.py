"""The outbox relay: committed outward messages go to RQ, then out through their channel, once.

One message (an `OutboxMessage` row) moves like this::

    pending ─┬─ queued at commit (fast path) ─┐
             └─ queued by the periodic relay ─┴─▶ RQ job `deliver` ─▶ claim: "sending" (committed)
                                                                        │
       sent ◀── the provider took it ──────────────────────────────────┤
       failed ◀─ try again later (backoff; reconcile first if it may have gone out) ─┤
       dead ◀── cannot go out as it is, or out of attempts (staff may retry) ───────┤
       unknown ◀ cut off mid-send and the provider cannot be asked (WeChat): staff decide

Why this is "exactly once" as far as the providers allow:

- The row is committed as "sending" before the provider is called, and the claim is a
  conditional UPDATE, so two workers (or a job queued twice) cannot both send it.
- A row found in "sending" after its lease belongs to a worker that died mid-send: a Twilio
  row is checked with the provider (`find_sent`) before anything is sent again; a WeChat row,
  which cannot be looked up, goes to staff as "unknown" and is never resent by itself.
- Redis holds only pointers ("deliver row 42"); the database is the truth. A job lost with Redis
  is queued again by the relay after `OUTBOX_RELAY_LEASE_SECONDS`, and a job queued twice finds
  the row already claimed.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import and_, func, or_, select, update

from channels.senders import (
    LogSender,
    OutboundMessage,
    PermanentSendError,
    Reconciler,
    Sender,
    SendResult,
    TransientSendError,
    build_senders,
)
from hotline import inbox
from hotline.domain import phones
from hotline.extensions import db
from hotline.models import Case, InboxMessage, OutboxMessage, Survey
from hotline.models.types import utcnow
from hotline.outbox import message_key
from hotline.warmup import REHEARSAL
from hotline.wiring import providers, wiring_of

from .settings import sender_config, setting

logger = logging.getLogger(__name__)

SEND_QUEUE = "notifications"
RETRYABLE = ("pending", "failed")
# What staff see on a row that cannot be verified (shown in the dead-letter list).
UNKNOWN_REASON = ("发送状态未知：发送过程中断，{channel} 无法查询消息是否已送达，未自动重发；"
                  "请核实后选择重发或确认已送达")
# Seconds a web process leaves Redis alone after it failed to answer, so that requests do
# not each wait on a Redis that is down.
FAST_PATH_PAUSE = 15.0
# Seconds a request waits on Redis to queue what its commit wrote (the fast path).
FAST_PATH_TIMEOUT = 0.5
# A job works off what is waiting besides its own message for at most this long, then leaves
# the rest to a job it queues (the send queue's jobs time out after 60 s).
INBOX_JOB_SECONDS = 20.0
SEND_JOB_SECONDS = 15.0


# -- senders and the messages they take ------------------------------------------------------


def redis_for(app: Flask, timeout: float | None = 2) -> Redis | None:
    """A Redis client of this app (one pool per app and timeout), or None without REDIS_URL."""
    if not app.config.get("REDIS_URL"):
        return None
    clients = app.extensions.setdefault("hotline_redis", {})
    if timeout not in clients:
        clients[timeout] = Redis.from_url(app.config["REDIS_URL"], socket_timeout=timeout,
                                          socket_connect_timeout=timeout)
    return clients[timeout]


def senders_for(app: Flask) -> dict[str, Sender]:
    """The outward senders configured for this app (built once per app and process)."""
    senders = app.extensions.get("hotline_senders")
    if senders is None:
        senders = build_senders(sender_config(app), redis_for(app, timeout=10))
        app.extensions["hotline_senders"] = senders
    return senders


def sender_for(app: Flask, channel: str, recipient: str | None) -> Sender | None:
    """The sender of this message: one a channel registered for the recipient (the WeChat
    account an openid belongs to), else the configured sender of the channel."""
    if recipient:
        for finder in wiring_of(app).providers["sender"]:  # hotline.wiring.PROVIDERS
            found = finder(channel, recipient, redis_for(app, timeout=10))
            if found is not None:
                return found
    return senders_for(app).get(channel)


def can_reconcile(sender: Sender | None) -> bool:
    return isinstance(sender, Reconciler)


def resend_is_harmless(sender: Sender | None) -> bool:
    """The log sender sends nothing to anybody: an attempt cut off may simply be repeated."""
    return isinstance(sender, LogSender)


def latest_inbound(openid: str) -> dt.datetime | None:
    """When this citizen last wrote to the WeChat account, as far as anyone here knows."""
    seen: list[dt.datetime] = []
    for finder in providers("last_inbound"):  # hotline.wiring.PROVIDERS
        found = finder("wechat", openid)
        if found is not None:
            seen.append(found)
    case_at = db.session.scalar(select(func.max(Case.received_at)).where(
        Case.citizen_openid == openid, Case.channel == "wechat"))
    answer_at = db.session.scalar(
        select(func.max(Survey.answered_at)).join(Case, Survey.case_id == Case.id)
        .where(Case.citizen_openid == openid, Survey.answer_channel == "wechat"))
    # SQLite's MAX() hands back the stored text; the typed column does not apply to aggregates.
    seen.extend(_instant(v) for v in (case_at, answer_at) if v is not None)
    return max(seen) if seen else None


def _instant(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def outbound_for(message: OutboxMessage) -> OutboundMessage:
    """What the sender of the row's channel is handed."""
    if not message.recipient:
        raise PermanentSendError(f"{message_key(message)} has no recipient")
    payload = message.payload or {}
    to = message.recipient
    if message.channel in ("sms", "voice"):
        to = phones.e164(to) or to
    from_number = payload.get("from_number")
    if from_number is None and message.case is not None:
        from_number = message.case.line.phone_number
    last_inbound_at = None
    if message.channel == "wechat":
        last_inbound_at = latest_inbound(message.recipient)
    return OutboundMessage(
        key=message_key(message), channel=message.channel, to=to, text=message.text,
        purpose=message.purpose, template=payload.get("template"),
        last_inbound_at=last_inbound_at, from_number=from_number,
        twiml_url=payload.get("twiml_url"))


def backoff(app: Flask, attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: doubling from the base, capped, with jitter so that
    many messages failing together (provider down) do not all come back at the same second."""
    base = setting(app, "OUTBOX_BACKOFF_SECONDS")
    cap = setting(app, "OUTBOX_BACKOFF_MAX_SECONDS")
    seconds = min(base * 2 ** max(attempts - 1, 0), cap)
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.2))


# -- sending one message ----------------------------------------------------------------------


def _fresh(message_id: int) -> OutboxMessage | None:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id)
                             .execution_options(populate_existing=True))


def _record(message_id: int, claimed_at: dt.datetime | None, **values: Any) -> bool:
    """Write an attempt's outcome; with `claimed_at`, only while the row is still this
    attempt's (a relay may have taken back a row whose attempt outlived its lease)."""
    query = update(OutboxMessage).where(OutboxMessage.id == message_id)
    if claimed_at is not None:
        query = query.where(OutboxMessage.status == "sending",
                            OutboxMessage.claimed_at == claimed_at)
    with inbox.serialized_writes():
        changed = db.session.execute(query.values(updated_at=utcnow(), **values)).rowcount
        db.session.commit()
    return bool(changed)


def deliver(message_id: int, now: dt.datetime | None = None) -> str:
    """Send one outbox message if it is due and nobody else is sending it; say what happened.

    Each attempt is one log line: INFO when the message went out, WARNING when it failed (to be
    retried, dead, or of unknown fate), with the outbox id, case number, channel and purpose;
    never the recipient or the text. A message skipped (not due, taken) is DEBUG.
    """
    outcome = _attempt(message_id, now)
    _log_outcome(message_id, outcome)
    return outcome


# A provider's error may quote the number it refused: 7 digits or more are cut to their ends.
_LONG_NUMBER = re.compile(r"\+?\d[\d -]{5,}\d")


def deliver_waiting(message_id: int, now: dt.datetime | None = None) -> str:
    """A send job: message `message_id`, then every other message just committed and not yet
    tried, oldest first, each claimed, sent and recorded on its own as `deliver` does. The
    fast path queues a job only when none is waiting (`queue_after_commit`), so under a burst
    one job sends what many commits wrote. Says what became of `message_id`."""
    app = current_app._get_current_object()
    _take_turn(app, _SEND_TURN)
    outcome = deliver(message_id, now)
    deadline = time.monotonic() + SEND_JOB_SECONDS
    done = {message_id}
    o = OutboxMessage
    while True:
        ids = [i for i in db.session.scalars(
            select(o.id).where(o.status == "pending", o.attempts == 0,
                               o.next_attempt_at <= (now or utcnow()))
            .order_by(o.id).limit(50 + len(done))) if i not in done]
        db.session.rollback()
        if not ids:
            return outcome
        if time.monotonic() > deadline:
            queue_deliveries(app, ids[:1])
            return outcome
        for i in ids:
            done.add(i)
            deliver(i, now)


def _take_turn(app: Flask, key: str) -> None:
    """A job that starts lets the next commit queue a job again: whatever it writes from now
    on, this job may not see any more."""
    connection = redis_for(app, timeout=FAST_PATH_TIMEOUT)
    if connection is not None:
        connection.delete(key)


def _log_outcome(message_id: int, outcome: str) -> None:
    row = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.purpose, OutboxMessage.attempts,
               OutboxMessage.last_error, OutboxMessage.provider_id, Case.number)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.id == message_id)).first()
    db.session.rollback()
    if row is None or outcome.startswith("skipped"):
        logger.debug("outbox %s %s", message_id, outcome)
        return
    channel, purpose, attempts, error, provider_id, number = row
    fields = {"outbox_id": message_id, "channel": channel, "purpose": purpose,
              "outcome": outcome, "attempt": attempts, "case": number,
              "provider_id": provider_id}
    if outcome == "sent":
        # No provider id: the log sender took it (no credentials for the channel).
        logger.info("outbox %s sent: case %s, %s %s, attempt %s, %s", message_id,
                    number or "-", channel, purpose, attempts,
                    provider_id or f"logged only (no {channel} credentials)", extra=fields)
        return
    reason = _LONG_NUMBER.sub(lambda m: m.group()[:3] + "****" + m.group()[-2:],
                              (error or "")[:300])
    logger.warning("outbox %s %s: case %s, %s %s, attempt %s: %s", message_id, outcome,
                   number or "-", channel, purpose, attempts, reason,
                   extra={**fields, "reason": reason})


def _attempt(message_id: int, now: dt.datetime | None) -> str:
    app = current_app._get_current_object()
    now = now or utcnow()
    message = _fresh(message_id)
    if message is None:
        return "missing"
    if message.status not in RETRYABLE or message.next_attempt_at > now:
        db.session.rollback()
        return f"skipped: {message.status}"
    previous_claim, may_be_out, attempt = message.claimed_at, message.maybe_sent, \
        message.attempts + 1
    with inbox.serialized_writes():
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == message.status,
                   OutboxMessage.attempts == message.attempts)
            .values(status="sending", attempts=attempt, claimed_at=now, updated_at=now)
        ).rowcount
        db.session.commit()  # "sending" is durable before anyone talks to the provider
    if not claimed:
        return "skipped: taken by another worker"

    message = _fresh(message_id)
    channel, created_at = message.channel, message.created_at
    sender = sender_for(app, channel, message.recipient)
    if sender is None:
        _record(message_id, now, status="dead", maybe_sent=False,
                last_error=f"no sender for channel {channel!r}")
        return "dead"
    try:
        outbound = outbound_for(message)
    except PermanentSendError as exc:
        _record(message_id, now, status="dead", maybe_sent=False, last_error=exc.reason)
        return "dead"
    db.session.rollback()  # no transaction stays open while the provider is called

    if may_be_out and not resend_is_harmless(sender):
        if not can_reconcile(sender):
            _record(message_id, now, status="unknown", maybe_sent=True,
                    last_error=UNKNOWN_REASON.format(channel=channel))
            return "unknown"
        try:
            found = sender.find_sent(outbound, previous_claim or created_at)
        except TransientSendError as exc:
            return _failed(app, message_id, now, attempt, f"checking with the provider: "
                           f"{exc.reason}", maybe_sent=True)
        if found is not None:
            return _sent(message_id, found, "found at the provider; not sent again")

    try:
        result = sender.send(outbound)
    except PermanentSendError as exc:
        _record(message_id, now, status="dead", maybe_sent=False, last_error=exc.reason)
        return "dead"
    except TransientSendError as exc:
        if exc.maybe_sent and not can_reconcile(sender) and not resend_is_harmless(sender):
            _record(message_id, now, status="unknown", maybe_sent=True,
                    last_error=f"{UNKNOWN_REASON.format(channel=channel)} ({exc.reason})")
            return "unknown"
        return _failed(app, message_id, now, attempt, exc.reason,
                       maybe_sent=exc.maybe_sent and not resend_is_harmless(sender))
    except Exception as exc:  # the request may have left: treat it as "maybe sent"
        logger.exception("unexpected error sending %s", outbound.key)
        reason = f"unexpected error: {type(exc).__name__}: {exc}"
        if can_reconcile(sender) or resend_is_harmless(sender):
            return _failed(app, message_id, now, attempt, reason,
                           maybe_sent=not resend_is_harmless(sender))
        _record(message_id, now, status="unknown", maybe_sent=True,
                last_error=f"{UNKNOWN_REASON.format(channel=channel)} ({reason})")
        return "unknown"
    return _sent(message_id, result)


def _sent(message_id: int, result: SendResult, note: str | None = None) -> str:
    # Recorded whatever happened to the row meanwhile: the provider has the message.
    _record(message_id, None, status="sent", maybe_sent=False, sent_at=utcnow(),
            provider_id=result.provider_id, last_error=note)
    return "sent"


def _failed(app: Flask, message_id: int, now: dt.datetime, attempt: int, reason: str, *,
            maybe_sent: bool) -> str:
    if attempt >= setting(app, "OUTBOX_MAX_ATTEMPTS"):
        _record(message_id, now, status="dead", maybe_sent=maybe_sent,
                last_error=f"gave up after {attempt} attempts: {reason}")
        return "dead"
    _record(message_id, now, status="failed", maybe_sent=maybe_sent, last_error=reason,
            next_attempt_at=now + backoff(app, attempt))
    return "failed"


# -- the relay: from the database to RQ -------------------------------------------------------


@dataclass
class RelayReport:
    queued: int = 0
    recovered: int = 0  # attempts cut off, set up to be checked and resent
    unknown: int = 0  # attempts cut off that cannot be checked: for staff
    ids: list[int] = field(default_factory=list)
    inbox: int = 0  # inbound messages left to do, asked of the workers again


def queue_deliveries(app: Flask, ids: Iterable[int], connection: Redis | None = None,
                     rehearsed: bool = False) -> int:
    """Put one `deliver` job per row on the send queue, in one round trip. Raises RedisError."""
    from .jobs import deliver_message

    return _queue_jobs(app, SEND_QUEUE, deliver_message, ids, 60, "deliver outbox-{}",
                       connection, rehearsed)


def _queue_jobs(app: Flask, queue_name: str, func: Callable[[int], Any], ids: Iterable[int],
                timeout: int, description: str, connection: Redis | None,
                rehearsed: bool = False) -> int:
    """One job `func(id)` per id on the queue, all in one pipeline (one round trip); failed
    jobs are kept a week for staff to look at. `rehearsed`: the pipeline is built, and
    dropped unsent (`hotline.warmup.rehearsal_with_commits`). Raises RedisError."""
    ids = list(ids)
    if not ids:
        return 0
    connection = connection or redis_for(app)
    if connection is None:
        raise RedisError("REDIS_URL is not set")
    queue = Queue(queue_name, connection=connection)
    jobs = [Queue.prepare_data(func, args=(i,), timeout=timeout, result_ttl=600,
                               failure_ttl=7 * 86400, description=description.format(i))
            for i in ids]
    with connection.pipeline() as pipe:
        queue.enqueue_many(jobs, pipeline=pipe)
        if not rehearsed:
            pipe.execute()
    return len(ids)


def recover_cut_off(app: Flask, now: dt.datetime) -> tuple[int, int]:
    """Rows left in "sending" beyond the lease: their worker died or hung mid-send."""
    lease = dt.timedelta(seconds=setting(app, "OUTBOX_SENDING_LEASE_SECONDS"))
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease)
        .limit(setting(app, "OUTBOX_RELAY_BATCH"))).all()
    recovered = unknown = 0
    for row in rows:
        sender = sender_for(app, row.channel, row.recipient)
        if can_reconcile(sender) or resend_is_harmless(sender) or sender is None:
            row.status = "failed"
            row.maybe_sent = not resend_is_harmless(sender)
            row.next_attempt_at = now
            row.last_error = (f"attempt of {row.claimed_at.isoformat()} was cut off; checked with "
                              "the provider before any resend")
            recovered += 1
        else:
            row.status = "unknown"
            row.maybe_sent = True
            row.last_error = UNKNOWN_REASON.format(channel=row.channel)
            unknown += 1
            logger.warning("%s left in sending; marked unknown for staff", message_key(row))
    db.session.commit()
    return recovered, unknown


def relay(now: dt.datetime | None = None, connection: Redis | None = None) -> RelayReport:
    """One pass of the relay: take back cut-off attempts, then queue every due row."""
    app = current_app._get_current_object()
    now = now or utcnow()
    report = RelayReport()
    report.recovered, report.unknown = recover_cut_off(app, now)
    grace = now - dt.timedelta(seconds=setting(app, "OUTBOX_RELAY_GRACE_SECONDS"))
    stale = now - dt.timedelta(seconds=setting(app, "OUTBOX_RELAY_LEASE_SECONDS"))
    o = OutboxMessage
    fresh_from_commit = and_(o.relayed_at.is_(None), o.attempts == 0, o.created_at > grace)
    not_queued_since_due = or_(o.relayed_at.is_(None), o.relayed_at < o.next_attempt_at)
    ids = list(db.session.scalars(
        select(o.id)
        .where(o.status.in_(RETRYABLE), o.next_attempt_at <= now,
               or_(and_(not_queued_since_due, ~fresh_from_commit), o.relayed_at <= stale))
        .order_by(o.next_attempt_at, o.id)
        .limit(setting(app, "OUTBOX_RELAY_BATCH"))))
    db.session.rollback()
    if ids:
        queue_deliveries(app, ids, connection)  # raises while Redis is down: rows stay due
        db.session.execute(update(o).where(o.id.in_(ids)).values(relayed_at=now))
        db.session.commit()
    report.queued, report.ids = len(ids), ids
    report.inbox = relay_inbox(app, now, connection)
    # An idle pass says nothing at INFO: it runs every RELAY_INTERVAL seconds.
    logger.log(logging.INFO if report.recovered else logging.DEBUG,
               "relay: %d queued, %d cut-off attempt(s) taken back, %d of unknown fate",
               report.queued, report.recovered, report.unknown)
    return report


# -- inbound messages: the inbox's rows to the workers -----------------------------------------

INBOX_QUEUE = "inbox"  # first of hotline.queue.QUEUE_NAMES


def queue_inbox(app: Flask, ids: Iterable[int], connection: Redis | None = None,
                rehearsed: bool = False) -> int:
    """Put one `process_inbox` job per inbound message on the queue, in one round trip, and
    note when. Raises RedisError."""
    from .jobs import process_inbox

    return _queue_jobs(app, INBOX_QUEUE, process_inbox, ids, 300, "inbox-{}", connection,
                       rehearsed)


def work_inbox(message_id: int) -> str:
    """An inbox job: message `message_id` (after its sender's earlier ones), then every other
    message waiting (`hotline.inbox.process_waiting`). The fast path queues a job only when
    none is waiting (`queue_after_commit`), so under a burst one job does what many webhooks
    stored. Says what became of `message_id`."""
    app = current_app._get_current_object()
    _take_turn(app, _INBOX_TURN)
    outcome = inbox.process(message_id)
    left = inbox.process_waiting(seconds=INBOX_JOB_SECONDS)
    if left is not None:
        queue_inbox(app, [left])
    return outcome


def relay_inbox(app: Flask, now: dt.datetime, connection: Redis | None = None) -> int:
    """Ask the workers again for inbound messages still to do a while after they were queued:
    their job was lost (Redis down at the commit, or since) or failed."""
    stale = now - dt.timedelta(seconds=setting(app, "INBOX_RELAY_LEASE_SECONDS"))
    ids = inbox.pending(setting(app, "OUTBOX_RELAY_BATCH"), queued_before=stale)
    db.session.rollback()
    if not ids:
        return 0
    queue_inbox(app, ids, connection)  # raises while Redis is down: the rows wait
    db.session.execute(update(InboxMessage).where(InboxMessage.id.in_(ids))
                       .values(queued_at=now))
    db.session.commit()
    logger.info("relay: %d inbound message(s) left to do queued again", len(ids))
    return len(ids)


# -- the fast path: queue right after the commit that wrote the row ---------------------------

_PENDING_KEY = "hotline_outbox_due"
_INBOX_KEY = "hotline_inbox_new"
# Set (on Redis) while a job of the queue waits that will do what a commit wrote; taken away
# as that job starts. Expires in case the job is lost: the relay asks again for its messages.
_INBOX_TURN = "hotline:inbox:job-waiting"
_SEND_TURN = "hotline:outbox:job-waiting"
_TURN_SECONDS = 60


def collect_new_messages(session: Any, flush_context: Any) -> None:
    """Note the outbox messages due now and the inbound messages a flush wrote, each with the
    savepoint it was written in (None: outside any), which takes it back if rolled back."""
    now = utcnow()
    savepoint = session.get_nested_transaction()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, OutboxMessage) and obj.status == "pending" and obj.id is not None \
                and (obj.next_attempt_at is None or obj.next_attempt_at <= now):
            session.info.setdefault(_PENDING_KEY, {}).setdefault(obj.id, savepoint)
        elif isinstance(obj, InboxMessage) and obj.id is not None and obj.processed_at is None:
            session.info.setdefault(_INBOX_KEY, {}).setdefault(obj.id, savepoint)


def forget_new_messages(session: Any, *args: Any) -> None:
    """A rollback takes back the messages noted in what it rolled back: the whole transaction,
    or a savepoint (SQLAlchemy tells both apart only by the session's innermost transaction,
    still the savepoint's as it rolls back) with the savepoints opened inside it; the
    messages written before the savepoint stay noted for the commit."""
    savepoint = session.get_nested_transaction()
    for key in (_PENDING_KEY, _INBOX_KEY):
        if savepoint is None:
            session.info.pop(key, None)
            continue
        noted = session.info.get(key, {})
        for message_id, written_in in list(noted.items()):
            if _within(written_in, savepoint):
                del noted[message_id]


def _within(transaction: Any, savepoint: Any) -> bool:
    """Whether `transaction` is `savepoint` or one opened inside it."""
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def queue_after_commit(session: Any) -> None:
    """Queue the noted messages on RQ once their transaction has committed: their jobs, or
    none where a job of their queue is waiting already (it will do them too)."""
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is committed yet (SQLAlchemy calls this too)
    ids = session.info.pop(_PENDING_KEY, None)
    inbound = session.info.pop(_INBOX_KEY, None)
    if not (ids or inbound) or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL") or app.config.get("OUTBOX_FAST_PATH") is False:
        return
    if time.monotonic() < app.extensions.get("hotline_fast_path_paused_until", 0.0):
        return  # Redis failed a moment ago; the periodic relay will queue these
    rehearsed = bool(session.info.get(REHEARSAL))  # its rows are rolled back: no job
    try:
        connection = redis_for(app, timeout=FAST_PATH_TIMEOUT)
        if inbound and _first_to_wait(connection, _INBOX_TURN, rehearsed):
            queue_inbox(app, sorted(inbound), connection, rehearsed)
        if ids and _first_to_wait(connection, _SEND_TURN, rehearsed):
            queue_deliveries(app, sorted(ids), connection, rehearsed)
    except RedisError as exc:
        app.extensions["hotline_fast_path_paused_until"] = time.monotonic() + FAST_PATH_PAUSE
        logger.warning("Redis unavailable (%s); %d message(s) wait for the relay", exc,
                       len(ids or ()) + len(inbound or ()))



def _first_to_wait(connection: Redis, key: str, rehearsed: bool) -> bool:
    """Whether no job of the queue is waiting (and one is now said to be). A rehearsal asks
    nothing and builds its jobs unsent."""
    return rehearsed or bool(connection.set(key, 1, nx=True, ex=_TURN_SECONDS))


def warm_up(app: Flask) -> None:
    """The fast path made ready for a process's first commit (`hotline.warmup`): the job
    functions imported, the Redis client connected, and the server's version known to RQ
    (which asks it with an INFO once per client, at its first enqueue). Measured in a fresh
    web worker: the first WeChat message's request paid 6-14 ms for these."""
    from rq.utils import get_version

    from . import jobs  # noqa: F401 (imported by queue_inbox and queue_deliveries otherwise)

    connection = redis_for(app, timeout=FAST_PATH_TIMEOUT)
    if connection is None:
        return
    try:
        get_version(connection)  # kept on the client: after a fork too
        connection.ping()  # this process's own connection (the pool reconnects after a fork)
    except RedisError as exc:
        logger.info("warm-up: Redis not reached: %s", exc)


def close_connections(app: Flask) -> None:
    """Close this process's Redis connections (the clients stay, and reconnect at their next
    use): gunicorn's master does it after its warm-up, before it forks the web workers."""
    for client in app.extensions.get("hotline_redis", {}).values():
        client.connection_pool.disconnect()
