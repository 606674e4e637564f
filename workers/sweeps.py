"""The supervision sweeps (督办): reminders before deadlines, escalation after them, the points
ledger, and reminders of unanswered surveys.

The database is the source of truth: nothing waits in Redis timers. Each kind of step is one
set-based statement over the indexed deadline columns — ``INSERT … SELECT`` of the cases that
need it and have not had it — so a sweep over a million open cases costs about what selecting
the matching rows costs, and running it again (or twice at once) changes nothing: a
`SupervisionMark` is unique per case, kind and deadline.

Kinds, for cases a department holds (dispatched, accepted) unless said otherwise:

- ``remind_accept`` (催签收): the signing deadline is within the lead time — the policy's
  ``remind_days`` working days, but never earlier than the last day of a short signing period;
- ``escalate_accept``: dispatched and still not signed for after ``accept_due_date``;
- ``remind_reply`` (催办): ``due_date`` within ``remind_days`` working days, not yet passed;
- ``escalate_reply`` (督办): past ``due_at`` with no answer (also for cases the hotline centre
  still holds: received, returned, reopened).

Every mark is a ``remind`` or ``escalate`` event on the case's timeline. An escalated case its
department held costs it points: ``POINTS_OVERDUE``, or ``POINTS_OVERDUE_AFTER_REMINDER`` when
it had been reminded of that deadline; a signing deadline missed costs ``POINTS_ACCEPT_OVERDUE``.
A deduction is dated at the deadline that was missed (23:59:59 local of its day), not at the
sweep that noticed: a worker that was down over a month's end still puts it in the month the
department missed it, which is the period its bulletin scores.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from hotline import surveys
from hotline.domain.deadlines import Policy, end_of_day, local_date
from hotline.domain.lifecycle import AWAITING_DEPARTMENT, SYSTEM, UNANSWERED, Status
from hotline.domain.workdays import WorkCalendar
from hotline.extensions import db
from hotline.followup import survey_reminder_text
from hotline.models import Case, CaseEvent, Category, Line, PointsEntry, Survey
from hotline.models.followup import SupervisionMark
from hotline.models.types import UTCDateTime, utcnow
from hotline.outbox import enqueue
from hotline.reports.sql import end_of_local_day, local_day
from hotline.services import work_calendar

from .settings import setting

HELD = tuple(AWAITING_DEPARTMENT)  # a department holds the case and owes its answer
# `Case.due_mark` / `accept_mark`: how far the sweep has gone for the current deadline.
REMINDED, ESCALATED = 1, 2
KINDS = ("remind_accept", "escalate_accept", "remind_reply", "escalate_reply")

NOTES = {
    "remind_accept": ("催办：请于签收时限 ", " 前签收"),
    "escalate_accept": ("督办：超过签收时限 ", " 仍未签收"),
    "remind_reply": ("催办：办理时限 ", "，请抓紧办理并按时答复"),
    "escalate_reply": ("督办：已超过办理时限 ", "，未答复，转督办"),
}


@dataclass
class SweepReport:
    at: dt.datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    points_entries: int = 0
    survey_reminders: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), **self.counts, "points_entries": self.points_entries,
                "survey_reminders": self.survey_reminders}


def _policies() -> tuple[dict[int, Policy], dict[int, Policy]]:
    """Each line's policy, and each category's (the line's with the category's overrides)."""
    lines = {line.id: Policy(line.accept_days, line.reply_days, line.remind_days)
             for line in db.session.scalars(select(Line))}
    categories = {cat.id: lines[cat.line_id].overlaid(cat.accept_days, cat.reply_days,
                                                      cat.remind_days)
                  for cat in db.session.scalars(select(Category)) if cat.line_id in lines}
    return lines, categories


def accept_lead(policy: Policy) -> int:
    """Working days before the signing deadline to remind: the policy's lead, but no earlier
    than the last day of the signing period (a 1-day period is reminded on its day)."""
    return max(0, min(policy.remind_days, policy.accept_days - 1))


def _cutoff(lines: dict[int, dt.date], categories: dict[int, dt.date],
            default: dt.date) -> ColumnElement:
    """The reminder cut-off date of each case's own policy, as one SQL expression."""
    c = Case.__table__.c
    by_line = case({k: literal(v, Date) for k, v in lines.items()}, value=c.line_id,
                   else_=literal(default, Date)) if lines else literal(default, Date)
    if not categories:
        return by_line
    by_category = case({k: literal(v, Date) for k, v in categories.items()},
                       value=c.category_id, else_=by_line)
    return case((c.category_id.is_(None), by_line), else_=by_category)


def _json_object(**pairs: ColumnElement) -> ColumnElement | None:
    """A JSON object built by the database (SQLite json_object, PostgreSQL json_build_object)."""
    args: list[Any] = []
    for key, value in pairs.items():
        args += [cast(literal(key), String), value]
    name = db.engine.dialect.name
    if name == "sqlite":
        return func.json_object(*args)
    if name == "postgresql":
        return func.json_build_object(*args)
    return None


def _insert(table: Any) -> Any:
    """INSERT that skips rows a concurrent sweep has just written (unique keys)."""
    name = db.engine.dialect.name
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return insert(table)


def _due_date(c: Any) -> ColumnElement:
    """The answer deadline's date, read off `due_at` rather than the `due_date` column.

    `due_at` is 23:59:59 local of `due_date`, and it is in the (status, due_at, due_mark)
    index: deciding from the index alone spares the database a table lookup per case that the
    sweep only has to skip.
    """
    return local_day(c.due_at)


def _candidates(kind: str, now: dt.datetime, calendar: WorkCalendar,
                policies: tuple[dict[int, Policy], dict[int, Policy]]
                ) -> tuple[ColumnElement, ColumnElement | None, ColumnElement]:
    """For one kind of step: (the indexed range of cases that may need it, the per-policy
    filter of that range or None, the deadline it is for)."""
    c = Case.__table__.c
    today = local_date(now)
    lines, categories = policies
    default = Policy()
    if kind in ("remind_accept", "remind_reply"):
        lead = accept_lead if kind == "remind_accept" else (lambda p: p.remind_days)
        memo: dict[int, dt.date] = {}

        def cutoff(policy: Policy) -> dt.date:
            n = lead(policy)
            if n not in memo:
                memo[n] = calendar.add_working_days(today, n).date
            return memo[n]

        expr = _cutoff({k: cutoff(p) for k, p in lines.items()},
                       {k: cutoff(p) for k, p in categories.items()}, cutoff(default))
        latest = max(memo.values())
        if kind == "remind_accept":
            return and_(c.status == Status.DISPATCHED, c.accept_due_date >= today,
                        c.accept_due_date <= latest, c.accept_mark < REMINDED), \
                c.accept_due_date <= expr, c.accept_due_date
        # The range on (status, due_at, due_mark) is what the index serves; the policy's own
        # cut-off then filters the rows in it that have had no reminder yet.
        return and_(c.status.in_(HELD), c.due_at >= now, c.due_at <= end_of_day(latest),
                    c.due_mark < REMINDED), _due_date(c) <= expr, _due_date(c)
    if kind == "escalate_accept":
        return and_(c.status == Status.DISPATCHED, c.accept_due_date < today,
                    c.accept_mark < ESCALATED), None, c.accept_due_date
    return and_(c.status.in_(UNANSWERED), c.due_at < now, c.due_mark < ESCALATED), None, \
        _due_date(c)


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """Remind, escalate and score every case that needs it now; commit; say how many."""
    app = current_app._get_current_object()
    now = now or utcnow()
    calendar = work_calendar()
    token = uuid.uuid4().hex
    report = SweepReport(at=now)
    c, m = Case.__table__.c, SupervisionMark.__table__
    at = literal(now, UTCDateTime())
    policies = _policies()

    for kind in KINDS:
        where, policy_filter, deadline = _candidates(kind, now, calendar, policies)
        done = exists().where(m.c.case_id == c.id, m.c.kind == kind, m.c.deadline == deadline)
        # "Not done yet" before the policy's filter: a case already reminded is skipped
        # without reading its category.
        conditions = [where, ~done] + ([policy_filter] if policy_filter is not None else [])
        rows = select(c.id, literal(kind, String), deadline, c.department_code, at,
                      literal(token, String)).where(*conditions)
        db.session.execute(_insert(m).from_select(
            ["case_id", "kind", "deadline", "department_code", "at", "sweep"], rows))

    _note_marks(token)

    # The timeline: one event per mark of this sweep.
    e = CaseEvent.__table__
    kind_note = case(*[(m.c.kind == k, literal(head) + cast(m.c.deadline, String) + literal(tail))
                       for k, (head, tail) in NOTES.items()])
    data = _json_object(kind=m.c.kind, deadline=cast(m.c.deadline, String),
                        department=m.c.department_code)
    event_rows = select(
        m.c.case_id,
        case((m.c.kind.like("remind%"), literal("remind")), else_=literal("escalate")),
        literal(SYSTEM.name), literal(SYSTEM.role), at, kind_note, c.status, c.status,
        *([data] if data is not None else []),
    ).select_from(m.join(Case.__table__, c.id == m.c.case_id)).where(m.c.sweep == token)
    columns = ["case_id", "action", "actor", "actor_role", "at", "note", "from_status",
               "to_status"] + (["data"] if data is not None else [])
    db.session.execute(insert(e).from_select(columns, event_rows))

    report.points_entries = _score(app, token)
    from .department_notices import after_sweep  # it reads this module's notes

    after_sweep(token, now)  # the departments' contacts are told in the same commit
    db.session.commit()
    for kind, count in db.session.execute(
            select(m.c.kind, func.count()).where(m.c.sweep == token).group_by(m.c.kind)):
        report.counts[kind] = count
    return report


def _note_marks(token: str) -> None:
    """Write on the cases this sweep marked how far it went (`due_mark`, `accept_mark`), so
    that the next sweep passes over them in its index ranges. Only for the deadline the mark
    is for: a deadline moved meanwhile (an extension committed after this sweep read the
    case; PostgreSQL re-reads the row it updates) keeps its mark at 0 and is swept again."""
    c, m = Case.__table__.c, SupervisionMark.__table__

    def marked(kind: str, deadline: ColumnElement) -> ColumnElement:
        return exists().where(m.c.sweep == token, m.c.case_id == c.id, m.c.kind == kind,
                              m.c.deadline == deadline)

    def furthest(mark: ColumnElement, deadline: ColumnElement, what: str) -> ColumnElement:
        return case((marked(f"escalate_{what}", deadline), literal(ESCALATED, Integer)),
                    (and_(mark < REMINDED, marked(f"remind_{what}", deadline)),
                     literal(REMINDED, Integer)), else_=mark)

    db.session.execute(
        update(Case.__table__)
        .where(c.id.in_(select(m.c.case_id).where(m.c.sweep == token)))
        .values(due_mark=furthest(c.due_mark, _due_date(c), "reply"),
                accept_mark=furthest(c.accept_mark, c.accept_due_date, "accept"),
                updated_at=c.updated_at))  # bookkeeping of the sweep, not a change of the case


def _score(app: Any, token: str) -> int:
    """Points ledger entries for this sweep's escalations of cases a department held, each
    dated at the deadline it missed."""
    c, m, p = Case.__table__.c, SupervisionMark.__table__, PointsEntry.__table__
    earlier = SupervisionMark.__table__.alias("earlier")
    reminded = exists().where(earlier.c.case_id == m.c.case_id,
                              earlier.c.kind == "remind_reply",
                              earlier.c.deadline == m.c.deadline)
    plain = setting(app, "POINTS_OVERDUE")
    after_reminder = setting(app, "POINTS_OVERDUE_AFTER_REMINDER")
    accept = setting(app, "POINTS_ACCEPT_OVERDUE")
    reason = case((m.c.kind == "escalate_accept", literal("accept_overdue")),
                  (reminded, literal("overdue_after_reminder")), else_=literal("overdue"))
    points = case((m.c.kind == "escalate_accept", literal(accept, Integer)),
                  (reminded, literal(after_reminder, Integer)), else_=literal(plain, Integer))
    dedupe = reason + literal(":") + cast(m.c.case_id, String) + literal(":") + \
        cast(m.c.deadline, String)
    missed = end_of_local_day(m.c.deadline)
    rows = select(m.c.department_code, m.c.case_id, reason, points, missed, dedupe) \
        .select_from(m.join(Case.__table__, c.id == m.c.case_id)) \
        .where(m.c.sweep == token, m.c.kind.in_(("escalate_accept", "escalate_reply")),
               m.c.department_code.is_not(None), c.status.in_(HELD), points != 0)
    result = db.session.execute(_insert(p).from_select(
        ["department_code", "case_id", "reason", "points", "at", "dedupe_key"], rows))
    return max(result.rowcount or 0, 0)


def remind_surveys(now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Ask once more citizens who have not answered their survey: by the same channel for
    WeChat and SMS; after an automated survey call nobody answered (or no key was pressed), an
    operator's call-back task (人工回访)."""
    app = current_app._get_current_object()
    now = now or utcnow()
    after = dt.timedelta(hours=setting(app, "SURVEY_REMIND_AFTER_HOURS"))
    rows = db.session.scalars(
        select(Survey).join(Case, Survey.case_id == Case.id)
        .where(Survey.answered_at.is_(None), Survey.reminded_at.is_(None),
               Survey.superseded_at.is_(None),
               Survey.sent_at <= now - after, Survey.channel.in_(("sms", "wechat", "voice")),
               Case.status == Status.CLOSED)
        .order_by(Survey.sent_at).limit(limit)).all()
    for survey in rows:
        survey.reminded_at = now
        if survey.channel == "voice":
            surveys.hand_to_operator(survey, "自动回访电话未获评价")
            continue
        link = surveys.survey_link(survey)
        enqueue(survey.case, survey.channel, survey.recipient,
                survey_reminder_text(survey.case, link), "remind",
                dedupe_key=f"survey-remind:{survey.id}", payload={"template": {"url": link}})
    db.session.commit()
    return len(rows)

