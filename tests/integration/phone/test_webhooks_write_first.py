"""On SQLite the voice webhooks write first: a call's webhooks hold the writers' lock as
webhooks do (`hotline.inbox.serialized_writes`), so that a worker busy with a batch of messages
commits and lets them in, instead of leaving them in SQLite's sleep-and-retry for seconds while
the caller hears silence."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from hotline import inbox
from hotline.extensions import db
from hotline.models import Call, CallbackTask, InboxMessage

from .conftest import call_params

CALL = "CA" + "7" * 32
GENEROUS = 30.0  # seconds: a bound no healthy run comes near, however loaded the machine


@pytest.fixture
def lock_path(phone_app) -> str:
    with phone_app.app_context():
        path = inbox._lock_path()
    if path is None:
        pytest.skip("PostgreSQL: no file lock")
    return path


def _webhook_waiting(path: str) -> bool:
    """What a worker's batch asks before its next message (`inbox.webhooks_waiting`)."""
    fd = os.open(path + "-webhooks", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.mark.parametrize("path, params, stored", [
    ("/voice", call_params(CALL, CallStatus="ringing"), lambda call: call.stage == "greeting"),
    ("/queue-result", call_params(CALL, QueueResult="hangup", QueueTime="40"),
     lambda call: call.outcome == "abandoned"),
    ("/status", call_params(CALL, CallStatus="completed", CallDuration="3"),
     lambda call: call.outcome == "abandoned"),
    ("/recording?kind=message", call_params(CALL, RecordingStatus="absent"),
     lambda call: call.outcome is not None),
], ids=["voice", "hang-up", "status", "recording"])
def test_a_call_webhook_arriving_while_a_worker_writes_is_a_webhook_waiting_its_turn(
        twilio, lock_path, path, params, stored):
    held = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)  # a worker's batch holds the writers' lock
    answers: list = []
    webhook = threading.Thread(target=lambda: answers.append(twilio.post(path, params)),
                               daemon=True)
    try:
        webhook.start()
        seen = False
        for _ in range(int(GENEROUS / 0.01)):
            seen = _webhook_waiting(lock_path)
            if seen or not webhook.is_alive():
                break
            threading.Event().wait(0.01)
        # The worker sees the call's webhook waiting (and commits to let it in), and the
        # webhook has not written behind the worker's back.
        assert seen, f"{path} wrote without saying it waits for the writers' lock"
        assert webhook.is_alive() and db.session.scalar(
            select(func.count()).select_from(Call)) == 0
    finally:
        os.close(held)  # the worker commits
    webhook.join(GENEROUS)
    assert not webhook.is_alive() and answers[0].status_code == 200
    db.session.expire_all()
    assert stored(db.session.scalar(select(Call).where(Call.call_sid == CALL)))
    assert not _webhook_waiting(lock_path)  # and it let go with its answer


@contextmanager
def _at_most(seconds: float) -> Iterator[None]:
    """Interrupt a wait on a lock that would never end (a lock waiting on itself)."""
    def give_up(*_):
        raise TimeoutError("waited on a lock this session already holds")
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_webhook_holding_the_lock_across_its_commits_may_store_in_the_inbox_too(
        phone_app, lock_path):
    """The lock is taken once per request: a view holding it (every commit of a call's
    webhook under it) that also stores a message in the inbox does not wait on itself, and
    holds the lock to its end, past the inbox's commit."""
    with phone_app.test_request_context(), _at_most(GENEROUS):
        with inbox.serialized_writes(answering=True, across_commits=True):
            assert inbox.receive("sms", "twilio-sms:SM-re-entrant", "+8613985012345",
                                 {"body": "我想查询一下我反映的问题办得怎么样了"}) is not None
            assert _webhook_waiting(lock_path)  # still held after the inbox's commit
            db.session.add(CallbackTask(kind="missed_call", phone="+8613985012345",
                                        line_code="fupin", reason="排队等待时挂机"))
            db.session.commit()
        assert not _webhook_waiting(lock_path)
        assert db.session.scalar(select(func.count()).select_from(InboxMessage)) == 1
        assert db.session.scalar(select(func.count()).select_from(CallbackTask)) == 1
