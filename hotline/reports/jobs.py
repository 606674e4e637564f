"""The scheduled bulletin job: write each bulletin that is due and not yet written.

`write_due_bulletins` runs every hour from `workers/schedule.py`. For each kind in the
`BULLETIN_KINDS` setting (week, month, quarter) it takes the latest period that has ended —
last week on Monday, last month on the 1st, last quarter on the 1st of January, April, July,
October — and writes its bulletin for all lines and for each active line, unless that
bulletin is already there. Re-reading the database each time makes it safe to run again, on
several workers, or after a day the worker was down (it catches up on the periods just ended).
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from ..domain.deadlines import local_date
from ..extensions import db
from ..models import Line
from ..models.types import utcnow
from .bulletin import write_bulletin
from .models import ALL_LINES, Bulletin
from .periods import last_complete

log = logging.getLogger(__name__)

JOB_PATH = "hotline.reports.jobs.bulletin_schedule"
_app: Flask | None = None


def bulletin_schedule() -> list[str]:
    """The RQ job: `write_due_bulletins` inside an app context (a worker's job has none)."""
    global _app
    if has_app_context():
        return write_due_bulletins()
    if _app is None:
        from .. import create_app

        _app = create_app()
    with _app.app_context():
        return write_due_bulletins()


def write_due_bulletins(now: dt.datetime | None = None) -> list[str]:
    """Write the bulletins of the periods that have just ended; returns what it wrote
    ("2026-10/all", "2026-10/zhitongche", ...)."""
    now = now or utcnow()
    today = local_date(now)
    kinds = current_app.config.get("BULLETIN_KINDS", ("week", "month", "quarter"))
    scopes: list[str | None] = [None]
    scopes += list(db.session.scalars(select(Line.code).where(Line.active.is_(True))
                                      .order_by(Line.id)))
    written = []
    for kind in kinds:
        period = last_complete(kind, today)
        have = set(db.session.scalars(select(Bulletin.scope)
                                      .where(Bulletin.period == period.label)))
        for line_code in scopes:
            key = line_code or ALL_LINES
            if key in have:
                continue
            write_bulletin(period, line_code, created_by="schedule", now=now)
            written.append(f"{period.label}/{key}")
            log.info("bulletin %s/%s written", period.label, key)
    return written
