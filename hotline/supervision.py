"""What supervision knows, for the pages and lists that show it: the "due soon" window (催办
lead, in working days), the reminders (催办) and escalations (督办) the sweep in
`workers/sweeps.py` gave each case for the deadlines it has now, and the supervisor's lists —
overdue, due soon, extension requests, replies to review, leadership instructions, unsatisfied
answers, dead letters — and the points ledger (积分).

The supervisor's lists in the API (`hotline/api/supervision.py`), the supervisor's pages and
the department's desk in the console read these, so a case is on a list by the same rule
everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from .domain.deadlines import DEFAULT_REMIND_DAYS, PROVINCE_TZ, end_of_day, local_date
from .domain.errors import Conflict, IllegalTransition, ValidationFailed
from .domain.lifecycle import ACTIONS, CLOCK_RUNNING, Actor, Role, Status, narrowed_department
from .extensions import db
from .models import Case, CaseEvent, Department, Line, OutboxMessage, PointsEntry, Survey
from .models.followup import SupervisionMark
from .models.types import utcnow

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


# -- the supervisor's lists (督办): one definition for the API and the console ----------------

#: Who works the supervisor's lists and decides on them (admins may do anything).
SUPERVISORS = (Role.SUPERVISOR,)
#: Messages that did not go out: dead (gave up) and unknown (cut off, unverifiable).
DEAD_LETTERS = ("dead", "unknown")


def scoped(query: Select, actor: Actor, department: str | None = None,
           line: str | None = None, supervised: bool | None = None) -> Select:
    """A case list's filters, narrowed for a handler to their own department's cases whatever
    department they ask for (`lifecycle.narrowed_department`)."""
    department = narrowed_department(actor, department)
    if department:
        query = query.where(Case.department_code == department)
    if line:
        query = query.join(Line, Case.line_id == Line.id).where(Line.code == line)
    if supervised is not None:
        query = query.where(Case.supervised == supervised)
    return query


def overdue_cases(now: dt.datetime) -> Select:
    """Cases past their answer deadline with the clock still running (督办), most late first."""
    return select(Case).where(Case.status.in_(CLOCK_RUNNING), Case.due_at < now) \
        .order_by(Case.due_at, Case.id)


def due_soon_cases(now: dt.datetime, within: int = DEFAULT_REMIND_DAYS) -> tuple[Select, dt.date]:
    """Cases due within `within` working days and not late yet (催办), soonest first, and the
    last day counted."""
    last_day = due_soon_until(local_date(now), within)
    query = select(Case).where(Case.status.in_(CLOCK_RUNNING), Case.due_at >= now,
                               Case.due_at <= end_of_day(last_day)) \
        .order_by(Case.due_at, Case.id)
    return query, last_day


def extension_requests() -> Select:
    """Cases whose department asked for more time (延期) and waits for a decision, soonest
    deadline first: those `extension-decision` may decide (the lifecycle's `ready` rule)."""
    rule = ACTIONS["extension-decision"]
    return select(Case).where(Case.pending_extension_days.is_not(None),
                              Case.status.in_([str(s) for s in rule.sources or ()])) \
        .order_by(Case.due_at, Case.id)


def awaiting_review() -> Select:
    """Replies waiting for the centre's review (审核), oldest reply first."""
    rule = ACTIONS["review"]
    return select(Case).where(Case.status.in_([str(s) for s in rule.sources or ()])) \
        .order_by(Case.replied_at, Case.id)


def instructed_cases() -> Select:
    """Open cases under a leadership instruction (领导批示, 督办件): those whose department's
    feedback (反馈) is awaited first, soonest feedback day first; then the rest, soonest
    deadline first."""
    return select(Case).where(Case.supervised.is_(True), Case.status != Status.CLOSED) \
        .order_by(Case.instruction_due_date.is_(None), Case.instruction_due_date, Case.due_at,
                  Case.id)


def unsatisfied_answers(handled: bool = False) -> Select:
    """不满意 answers waiting for a supervisor (reopen, 重办, or explain), newest first; with
    `handled`, those dealt with already."""
    query = select(Survey).where(Survey.rating == "unsatisfied")
    query = query.where(Survey.handled_at.is_not(None) if handled
                        else Survey.handled_at.is_(None))
    return query.order_by(Survey.answered_at.desc(), Survey.id.desc())


def dead_letters(channel: str | None = None) -> Select:
    """Outward messages that did not go out (dead, unknown), newest first."""
    query = select(OutboxMessage).where(OutboxMessage.status.in_(DEAD_LETTERS))
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return query.order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc())


def latest_instructions(cases: Sequence[Case]) -> dict[int, CaseEvent]:
    """Each case's latest leadership instruction (批示) on its timeline."""
    if not cases:
        return {}
    rows = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id.in_([c.id for c in cases]), CaseEvent.action == "instruct")
        .order_by(CaseEvent.id))
    return {e.case_id: e for e in rows}


def mark_handled(survey: Survey, actor: Actor, note: str) -> Survey:
    """An unsatisfied answer dealt with without reopening (explained to the citizen, …); on the
    case's timeline with the note. No commit."""
    if survey.rating != "unsatisfied":
        raise IllegalTransition("only an unsatisfied answer waits for a supervisor")
    if survey.handled_at is not None:
        raise Conflict("this answer has been dealt with already")
    if not (note or "").strip():
        raise ValidationFailed("say how the answer was dealt with",
                               {"note": ["Missing data for required field."]})
    from .services import record_event

    survey.handled_at = utcnow()
    record_event(survey.case, "survey_handled", actor, note.strip(),
                 {"survey": survey.id, "round": survey.round})
    return survey


@dataclass(frozen=True)
class DepartmentPoints:
    department: str
    name: str
    points: int
    entries: int


def _points_window(start: dt.date | None, end: dt.date | None) -> list[Any]:
    where = []
    if start:
        where.append(PointsEntry.at >= dt.datetime.combine(start, dt.time(), tzinfo=PROVINCE_TZ))
    if end:
        where.append(PointsEntry.at <= end_of_day(end))
    return where


def points_totals(start: dt.date | None = None,
                  end: dt.date | None = None) -> list[DepartmentPoints]:
    """The departments' points (积分) from `start` to `end` (local dates, both included; open
    where not given), lowest first."""
    rows = db.session.execute(
        select(PointsEntry.department_code, Department.name, func.sum(PointsEntry.points),
               func.count(PointsEntry.id))
        .join(Department, Department.code == PointsEntry.department_code)
        .where(*_points_window(start, end))
        .group_by(PointsEntry.department_code, Department.name)
        .order_by(func.sum(PointsEntry.points), PointsEntry.department_code)).all()
    return [DepartmentPoints(code, name, int(points), n) for code, name, points, n in rows]


def points_entries(department: str, start: dt.date | None = None,
                   end: dt.date | None = None) -> list[PointsEntry]:
    """One department's ledger lines in the window, oldest first."""
    return list(db.session.scalars(
        select(PointsEntry).where(PointsEntry.department_code == department,
                                  *_points_window(start, end))
        .order_by(PointsEntry.at, PointsEntry.id)))
