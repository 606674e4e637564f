"""What every channel's periodic fetch of a case's media (WeChat pictures and voice, Twilio call
recordings) promises, checked the same way for each: a file the platform no longer has is noted
once and never asked for again; an outage of the platform leaves the file for the next run; the
fetch is one of the workers' periodic jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment


def gone_once(fetch_pending: Callable[[], dict]) -> None:
    """The file is gone from the platform: noted on the first run, not asked for again."""
    assert fetch_pending() == {"gone": 1}
    assert fetch_pending() == {}


def stored_after_an_outage(fetch_pending: Callable[[], dict], fake: Any, status: int,
                           path: str, content: bytes) -> None:
    """The platform fails once (`status` on `path`): that run fails, the next stores the file."""
    fake.fail_next(1, status=status, path=path)
    assert fetch_pending() == {"failed": 1}
    assert fetch_pending() == {"stored": 1}
    assert db.session.scalar(select(Attachment.size)) == len(content)


def is_a_periodic_job(app: Any, func: str) -> None:
    """`func` runs on the workers' schedule, once."""
    from workers import schedule

    jobs = [p.func for p in schedule.periodic_jobs(app)]
    assert jobs.count(func) == 1
