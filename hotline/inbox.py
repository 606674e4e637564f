"""The inbox (收件箱): acknowledge a channel's message at once, then do the rest in a worker —
without ever losing what was acknowledged.

A webhook (WeChat, Twilio SMS) checks the signature, then `receive`s the message: one row,
one short commit, before it answers the provider. What the message asks for (a case, a status
query, a survey answer) is done later by `process`, in a worker, and the citizen's answer goes
out through the outbox (WeChat's customer-service message, an SMS):

- nothing acknowledged is lost: the row is committed before the answer, and stays "to do"
  (`processed_at` empty) until the transaction that did its work commits;
- nothing is done twice: the provider's retry of a message (same MsgId, MessageSid) is refused
  by the row's unique key, and `process` claims a row in the transaction that does its work;
- one sender's messages are done in the order they came (a citizen's second message may add
  to the case their first one opened);
- a worker that is down, or Redis, only delays: the workers' relay queues every row left to
  do (`pending`), and the row waits in the database meanwhile.

A worker's job does its own message, then every other message waiting (`process_waiting`),
several to a transaction: a job (its process, its bookkeeping on Redis) costs far more than
a message, and each commit waits on the disk.

What a message of each channel does is a row of `hotline.wiring.INBOX_HANDLERS`: `fn(row)`,
working in the caller's transaction, never committing. The workers queue `process` as soon as
a row commits (`workers.relay`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .extensions import db
from .models import InboxMessage
from .models.types import utcnow
from .warmup import in_rehearsal
from .wiring import wiring_of

try:
    import fcntl
except ImportError:  # not on POSIX: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

#: A message that failed this many times is set aside (logged, `last_error` kept) so that the
#: sender's later messages are not held up behind it for ever.
MAX_ATTEMPTS = 5
#: `process_waiting` commits once its transaction has held the writers this long (on SQLite
#: the database's one write lock, which the webhooks wait for) or done this many messages.
BATCH_HOLD_SECONDS = 0.05
BATCH_SIZE = 20
#: On SQLite a worker lets the webhooks waiting for the writers' lock go first, but waits for
#: them at most this long before it takes its turn (`serialized_writes`).
WEBHOOKS_FIRST_SECONDS = 0.5


def receive(channel: str, dedupe_key: str, sender: str, payload: dict[str, Any],
            now: dt.datetime | None = None) -> int | None:
    """Store one inbound message and commit it. Returns its id, or None when a message with
    this key was stored before (the provider's retry: acknowledge it, do nothing)."""
    with serialized_writes(answering=True):
        try:
            message_id = store(channel, dedupe_key, sender, payload, now).id
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return None
    return message_id


def store(channel: str, dedupe_key: str, sender: str, payload: dict[str, Any],
          now: dt.datetime | None = None) -> InboxMessage:
    """The message's row, written (flushed) in the caller's transaction: `receive` commits it
    at once; a warm-up's rehearsal rolls it back."""
    now = now or utcnow()
    # Queued at its commit (`workers.relay`); the relay asks again if that job never ran.
    row = InboxMessage(channel=channel, dedupe_key=dedupe_key, sender=sender[:100],
                       payload=payload, received_at=now, queued_at=now, attempts=0)
    db.session.add(row)
    db.session.flush()
    return row


def process(message_id: int, now: dt.datetime | None = None) -> str:
    """Do what message `message_id` asks, after any earlier message of its sender still to do.
    Says what became of it: processed, done already, failed (to be tried again) or missing."""
    row = db.session.get(InboxMessage, message_id)
    if row is None:
        return "missing"
    if row.processed_at is not None:
        db.session.rollback()
        return "done already"
    earlier = list(db.session.scalars(
        select(InboxMessage.id).where(
            InboxMessage.channel == row.channel, InboxMessage.sender == row.sender,
            InboxMessage.processed_at.is_(None), InboxMessage.id < message_id)
        .order_by(InboxMessage.id)))
    db.session.rollback()
    outcome = "done already"
    for one in [*earlier, message_id]:
        outcome = _process_one(one, now)
    return outcome


def pending(limit: int = 500, queued_before: dt.datetime | None = None) -> list[int]:
    """Ids of messages still to do, oldest first; with `queued_before`, only those not asked
    of a worker since then (a job lost with Redis, a worker that was down, a failure)."""
    m = InboxMessage
    query = select(m.id).where(m.processed_at.is_(None))
    if queued_before is not None:
        query = query.where((m.queued_at.is_(None)) | (m.queued_at < queued_before))
    return list(db.session.scalars(query.order_by(m.id).limit(limit)))


def process_pending(limit: int = 500) -> int:
    """Do every message still to do, oldest first (a worker's catch-up; tests). Returns how
    many were processed now."""
    done = 0
    for message_id in pending(limit):
        done += process(message_id) == "processed"
    return done


def process_waiting(now: dt.datetime | None = None, seconds: float = 20.0) -> int | None:
    """Do the messages waiting for a worker, oldest first, several to a transaction (a
    savepoint each), until none is left or `seconds` have gone by. Returns the first message
    left waiting for lack of time (None: none left), for a job to go on with.

    Only messages never tried are taken, and none of a sender with an earlier message still to
    do that is not taken (one that failed before: its own job, queued again by the relay, does
    it and those after it, in order). A message that fails here is noted as failed (its
    attempt counted, its error kept) and its sender's later ones are left to that job too.
    """
    deadline = time.monotonic() + seconds
    tried: set[int] = set()
    blocked: set[tuple[str, str]] = set()
    while True:
        batch = [w for w in _waiting(BATCH_SIZE + len(tried))
                 if w.id not in tried and (w.channel, w.sender) not in blocked][:BATCH_SIZE]
        if not batch:
            return None
        if time.monotonic() >= deadline:
            return batch[0].id
        _process_batch(batch, now, tried, blocked)


def _waiting(limit: int) -> list[Any]:
    """(id, channel, sender) of the messages never tried, oldest first, but none of a sender
    with an earlier message that failed and is still to do."""
    m, earlier = InboxMessage, aliased(InboxMessage)
    failed_before = exists().where(
        earlier.channel == m.channel, earlier.sender == m.sender, earlier.id < m.id,
        earlier.processed_at.is_(None), earlier.attempts > 0)
    rows = db.session.execute(
        select(m.id, m.channel, m.sender)
        .where(m.processed_at.is_(None), m.attempts == 0, ~failed_before)
        .order_by(m.id).limit(limit)).all()
    db.session.rollback()
    return list(rows)


def _process_batch(batch: list[Any], now: dt.datetime | None, tried: set[int],
                   blocked: set[tuple[str, str]]) -> None:
    """One transaction: the batch's messages in order, each in a savepoint, committed once the
    transaction has held the writers `BATCH_HOLD_SECONDS` or at the batch's end."""
    now = now or utcnow()
    with serialized_writes():
        began = time.monotonic()
        try:
            for waiting in batch:
                if (waiting.channel, waiting.sender) in blocked:
                    continue
                tried.add(waiting.id)
                try:
                    with db.session.begin_nested():
                        _claim_and_handle(waiting.id, now)
                except Exception as exc:  # noqa: BLE001 (logged by _note_failure)
                    blocked.add((waiting.channel, waiting.sender))
                    _note_failure(waiting.id, waiting.channel, 0, exc, now)
                if time.monotonic() - began >= BATCH_HOLD_SECONDS or webhooks_waiting():
                    break
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def _claim_and_handle(message_id: int, now: dt.datetime) -> bool:
    """Claim message `message_id` and do what it asks, in the caller's transaction; False when
    another worker has it done already."""
    m = InboxMessage
    claimed = db.session.execute(
        update(m).where(m.id == message_id, m.processed_at.is_(None))
        .values(processed_at=now)).rowcount
    if not claimed:
        return False
    row = db.session.scalars(select(m).where(m.id == message_id)
                             .execution_options(populate_existing=True)).one()
    handler = wiring_of().inbox.get(row.channel)
    if handler is None:
        raise LookupError(f"no handler for {row.channel} messages")
    handler(row)
    return True


def _note_failure(message_id: int, channel: str, attempts: int, exc: Exception,
                  now: dt.datetime) -> None:
    """Count a failed attempt on the row, in the caller's transaction; set it aside at
    `MAX_ATTEMPTS`."""
    attempts += 1
    gave_up = attempts >= MAX_ATTEMPTS
    m = InboxMessage
    db.session.execute(update(m).where(m.id == message_id).values(
        attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:2000],
        processed_at=now if gave_up else None))
    logger.error("inbox %s (%s) failed, attempt %d%s", message_id, channel, attempts,
                 "; set aside" if gave_up else "; will be tried again", exc_info=exc)


def _process_one(message_id: int, now: dt.datetime | None) -> str:
    now = now or utcnow()
    with serialized_writes():
        # The claim and the work commit together: a second worker's claim waits for this
        # transaction and then finds the row done; a failure leaves it to do.
        try:
            if not _claim_and_handle(message_id, now):
                db.session.rollback()
                return "done already"
            db.session.commit()
            return "processed"
        except Exception as exc:  # noqa: BLE001 (logged by _note_failure; tried again)
            db.session.rollback()
            row = db.session.get(InboxMessage, message_id)
            _note_failure(message_id, row.channel, row.attempts or 0, exc, now)
            db.session.commit()
            return "failed"


@contextmanager
def serialized_writes(answering: bool = False, across_commits: bool = False) -> Iterator[None]:
    """On SQLite, let one writer at a time in, queued on a file lock, the webhooks first: the
    writers that run under a burst of messages (webhooks storing them, the workers' inbox and
    send jobs).

    SQLite has one writer; a process that finds the database locked sleeps in growing steps
    (1, 2, 5 … 100 ms) and polls again, so under load the web workers and the workers spend
    their time asleep and one can starve the others for seconds. A blocking flock wakes the
    next waiter as soon as the lock is released. PostgreSQL locks rows and needs none of this.
    Taken before the transaction's first write, never inside one; let go as soon as the
    transaction has committed (`release_after_commit`), before what follows a commit (the
    fast path's queueing on Redis) runs.

    A writer `answering` a provider (a webhook: WeChat and Twilio wait for its answer) says so
    on a second file lock, shared, from before it waits until its commit. A worker waits until
    no webhook says so (at most `WEBHOOKS_FIRST_SECONDS`) before it takes the lock, and a
    worker's batch commits early when one does (`webhooks_waiting`): its message was
    acknowledged already, and its reply may come a moment later.

    Held `across_commits`, the lock is let go only at the end of the block, not at a commit:
    a webhook that reads, commits and writes again (Twilio's voice webhooks) holds it from its
    first statement to its answer. What it left uncommitted at the end is rolled back before
    the lock goes, so that no transaction outlives it. Re-entrant: asked for again while this
    session holds it (a view holding it calls `receive`), it is not taken a second time,
    which would wait on itself.
    """
    path = _lock_path()
    session = db.session()
    # A rehearsal (hotline.warmup) may have written already: it never waits on the lock while
    # it holds SQLite's, and its writes are rolled back.
    if path is None or fcntl is None or in_rehearsal() or _WRITE_LOCK in session.info:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    webhooks = os.open(path + "-webhooks", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if answering:
            fcntl.flock(webhooks, fcntl.LOCK_SH)
        else:
            _let_webhooks_go_first(webhooks)
        fcntl.flock(fd, fcntl.LOCK_EX)
        session.info[_WRITE_LOCK] = (fd, webhooks if answering else None)
        session.info[_WEBHOOKS] = None if answering else webhooks
        if across_commits:
            session.info[_ACROSS_COMMITS] = fd
        yield
    finally:
        session.info.pop(_WEBHOOKS, None)
        if session.info.get(_ACROSS_COMMITS) == fd:
            del session.info[_ACROSS_COMMITS]
            if session.in_transaction():
                session.rollback()
        if session.info.get(_WRITE_LOCK, (None,))[0] == fd:
            _release(session.info.pop(_WRITE_LOCK))
        os.close(fd)
        os.close(webhooks)  # and with it a webhook's shared lock, if still held


_WRITE_LOCK = "hotline_inbox_write_lock"
_WEBHOOKS = "hotline_inbox_webhooks_lock"
_ACROSS_COMMITS = "hotline_inbox_lock_across_commits"


def webhooks_waiting() -> bool:
    """Whether a webhook waits for the writers' lock (or holds it) while this worker's
    transaction holds it: time to commit and let it in. Always False on PostgreSQL."""
    fd = db.session().info.get(_WEBHOOKS)
    return fd is not None and not _free(fd)


def _let_webhooks_go_first(webhooks: int) -> None:
    until = time.monotonic() + WEBHOOKS_FIRST_SECONDS
    while not _free(webhooks) and time.monotonic() < until:
        time.sleep(0.002)


def _free(webhooks: int) -> bool:
    try:
        fcntl.flock(webhooks, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(webhooks, fcntl.LOCK_UN)
    return True


def _release(locks: tuple[int, int | None]) -> None:
    for fd in locks:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def release_after_commit(session: Any) -> None:
    """The writers' file lock (and a webhook's word that it writes) let go once the
    transaction holding it has committed (a session listener, first of a commit's:
    `hotline.wiring.SESSION_LISTENERS`). Not at a savepoint's release, which SQLAlchemy
    announces as a commit too, nor when held `across_commits`."""
    if session.in_nested_transaction() or _ACROSS_COMMITS in session.info:
        return
    locks = session.info.pop(_WRITE_LOCK, None)
    if locks is not None:
        _release(locks)


def _lock_path() -> str | None:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database + ".inbox-lock"
