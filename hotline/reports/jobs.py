"""The scheduled bulletin job: write each bulletin that is due and not yet written.

`write_due_bulletins` runs every hour from `workers/schedule.py`. For each kind in the
`BULLETIN_KINDS` setting (week, month, quarter) it takes the latest period that has ended —
last week on Monday, last month on the 1st, last quarter on the 1st of January, April, July,
October — and writes its bulletin for all lines and for each active line, unless that
bulletin is already there. Re-reading the database each time makes it safe to run again, on
several workers, or after a day the worker was down (it catches up on the periods just ended).
A period that ended before the centre's first case (its earliest `received_at`) has nothing to
report, and its bulletin is not due: a fresh install (`hotline run --demo`) draws no empty
bulletins as it starts, nor — last week's, month's and quarter's, twelve — after its first case.

In a worker, the hourly job (`bulletin_schedule`) writes none itself: it queues one job per due
bulletin on the reports queue (`write_one_bulletin`). Each is short, so the outbox's relay and
the notifications, on the queues the worker takes first, go between them instead of waiting for
a dozen charts and workbooks (a fresh install's first hour: 12 bulletins, 10-20 s on a busy
machine; a centre's month: far longer), and a worker asked to stop waits for one bulletin.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, select

from ..domain.deadlines import local_date
from ..extensions import db
from ..models import Case, Line
from ..models.types import utcnow
from .bulletin import write_bulletin
from .models import ALL_LINES, Bulletin
from .periods import Period, last_complete, parse_period

log = logging.getLogger(__name__)

JOB_PATH = "hotline.reports.jobs.bulletin_schedule"
WRITE_PATH = "hotline.reports.jobs.write_one_bulletin"
_app: Flask | None = None


def bulletin_schedule() -> list[str]:
    """The RQ job: one job on the reports queue per due bulletin; returns what it queued
    ("2026-10/all", ...). Outside a worker it writes them itself."""
    from rq import Queue, get_current_job

    job = get_current_job()
    with _context():
        if job is None:
            return write_due_bulletins()
        due = due_bulletins()
    queue = Queue("reports", connection=job.connection)
    for period, line_code in due:  # each with the time the whole schedule had
        queue.enqueue(WRITE_PATH, period.label, line_code, job_timeout=job.timeout,
                      result_ttl=3600, failure_ttl=7 * 86400)
    return [f"{period.label}/{line_code or ALL_LINES}" for period, line_code in due]


def write_one_bulletin(label: str, line_code: str | None) -> bool:
    """The RQ job of one due bulletin: write it unless it is there by now (another worker, an
    earlier run); True if it wrote it."""
    with _context():
        period = parse_period(label)
        if db.session.scalar(select(Bulletin.id).where(
                Bulletin.period == period.label, Bulletin.scope == (line_code or ALL_LINES))):
            return False
        write_bulletin(period, line_code, created_by="schedule")
        log.info("bulletin %s/%s written", period.label, line_code or ALL_LINES)
        return True


@contextmanager
def _context() -> Iterator[None]:
    """An app context for a job (a worker's job has none; the worker's app when it has one)."""
    global _app
    if has_app_context():
        yield
        return
    if _app is None:
        from .. import create_app

        _app = create_app()
    with _app.app_context():
        yield


def due_bulletins(now: dt.datetime | None = None) -> list[tuple[Period, str | None]]:
    """The bulletins of the periods that have just ended and are not written yet: (period,
    line code or None for all lines). None of a period that ended before the centre's first
    case (received_at): it has nothing to report."""
    first = db.session.scalar(select(func.min(Case.received_at)))
    if first is None:
        return []
    today = local_date(now or utcnow())
    kinds = current_app.config.get("BULLETIN_KINDS", ("week", "month", "quarter"))
    scopes: list[str | None] = [None]
    scopes += list(db.session.scalars(select(Line.code).where(Line.active.is_(True))
                                      .order_by(Line.id)))
    due = []
    for kind in kinds:
        period = last_complete(kind, today)
        if period.end_before <= first:
            continue
        have = set(db.session.scalars(select(Bulletin.scope)
                                      .where(Bulletin.period == period.label)))
        due += [(period, line_code) for line_code in scopes
                if (line_code or ALL_LINES) not in have]
    return due


def write_due_bulletins(now: dt.datetime | None = None) -> list[str]:
    """Write the bulletins of the periods that have just ended; returns what it wrote
    ("2026-10/all", "2026-10/zhitongche", ...)."""
    now = now or utcnow()
    written = []
    for period, line_code in due_bulletins(now):
        key = line_code or ALL_LINES
        write_bulletin(period, line_code, created_by="schedule", now=now)
        written.append(f"{period.label}/{key}")
        log.info("bulletin %s/%s written", period.label, key)
    return written
