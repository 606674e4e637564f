"""RQ jobs: small functions named for what they do. Each runs in an app context, re-reads what
it needs from the database (never trusting arguments that went stale) and calls the module that
holds the rule."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import get_current_job

from hotline import logs

# The app of this worker process, set by `run_worker`; jobs run by a worker inside an app
# context (tests, `hotline sweep`) use that context's app instead.
_app: Flask | None = None


def use_app(app: Flask | None) -> None:
    global _app
    _app = app


@contextlib.contextmanager
def app_context() -> Iterator[Flask]:
    """The app to run a job in; the job's log lines carry its RQ id as their request id."""
    job = get_current_job()
    with logs.bound(request=job.id if job else None, case=None):
        if has_app_context():
            yield current_app._get_current_object()
            return
        global _app
        if _app is None:
            from hotline import create_app

            _app = create_app()
        with _app.app_context():
            yield _app


def deliver_message(message_id: int) -> str:
    """Send one outbox message (if it is still due and nobody else has it), then the others
    just committed."""
    from .relay import deliver_waiting

    with app_context():
        return deliver_waiting(message_id)


def process_inbox(message_id: int) -> str:
    """Do what one inbound message asks (and any earlier one of its sender still to do), then
    the other messages waiting."""
    from .relay import work_inbox

    with app_context():
        return work_inbox(message_id)


def relay_outbox() -> dict[str, Any]:
    """Queue every due outbox message; take back attempts that were cut off."""
    from .relay import relay

    with app_context():
        report = relay()
        return {"queued": report.queued, "recovered": report.recovered,
                "unknown": report.unknown, "inbox": report.inbox}


def sweep_deadlines(at: str | None = None) -> dict[str, Any]:
    """Reminders (催办), escalations (督办) and points for every case that needs them now (or
    as of `at`, an ISO instant: catching up, tests)."""
    from .sweeps import sweep

    with app_context():
        return sweep(_instant(at)).as_dict()


def remind_unanswered_surveys(at: str | None = None) -> int:
    """Ask again, once, citizens who have not answered their survey."""
    from .sweeps import remind_surveys

    with app_context():
        return remind_surveys(_instant(at))


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"an instant needs its offset: {value!r}")
    return moment
