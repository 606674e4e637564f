"""What supervision knows about a case's current deadlines, for the pages and lists that show it:
the "due soon" window (催办 lead, in working days) and the reminders (催办) and escalations (督办)
the sweep in `workers/sweeps.py` gave each case for the deadlines it has now.

The supervisor's lists in the API (`hotline/api/supervision.py`) and the department's desk in
the console read these, so a case is "due soon" or "reminded" by the same rule on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from .domain.deadlines import DEFAULT_REMIND_DAYS
from .extensions import db
from .models import Case
from .models.followup import SupervisionMark

MARK_KINDS = ("remind_accept", "escalate_accept", "remind_reply", "escalate_reply")


def due_soon_until(today: dt.date, within: int = DEFAULT_REMIND_DAYS) -> dt.date:
    """The last day of the "due soon" window: `within` working days after today (the working-day
    calendar, 调休 included). A case due on or before it, and not yet late, is due soon."""
    from .services import work_calendar

    return work_calendar().add_working_days(today, within).date


def current_marks(cases: Sequence[Case]) -> dict[int, dict[str, dt.datetime]]:
    """For each case id, when it was reminded or escalated (by kind) for the deadlines it has
    now; a deadline moved by an extension or a reopening starts without marks."""
    out: dict[int, dict[str, dt.datetime]] = {c.id: {} for c in cases}
    if not cases:
        return out
    by_id = {c.id: c for c in cases}
    for mark in db.session.scalars(select(SupervisionMark).where(
            SupervisionMark.case_id.in_(list(by_id)))):
        case = by_id[mark.case_id]
        deadline = case.accept_due_date if mark.kind.endswith("accept") else case.due_date
        if mark.deadline == deadline:
            out[case.id][mark.kind] = mark.at
    return out
