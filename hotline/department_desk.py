"""The department's desk (承办工作台): the queue a department's clerks work from and the
department's own figures.

The queue is the staff case list (`reports.scope.case_list_conditions`, the API's scoping: a
handler sees their own department only) sorted 紧急件 first, then soonest deadline first (the
list's `due` order), cut into tabs by where the case stands (and, for "mine", to the cases
assigned to the viewer):

- 待签收 `dispatched`: sent to the department, not yet signed for (签收);
- 办理中 `accepted`: signed for, not yet answered;
- 已答复待审核 `replied`: answered, waiting for the centre's review;
- 退回重办 `redo`: sent back — an answer the centre's review rejected, or a case reopened
  (重办) after an unsatisfied survey — and not yet answered again;
- 待协办 `cohandling`: another department's case this department co-handles (协办) and has
  not yet given its part of the answer for, while the lead may still use it.

Each row says how its deadline stands (overdue, due today, due within the reminder lead of
`supervision.due_soon_until`) and whether the sweep reminded (催办) or escalated (督办) it.
The figures are the report's (`reports.summary`) for the department: on-time rate and points
of the current month, and the cases overdue now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from .domain.deadlines import local_date
from .domain.lifecycle import AWAITING_DEPARTMENT, Actor, Status, allowed_actions, is_overdue
from .extensions import db
from .listing import queue_order
from .models import Case, CaseCohandler, CaseEvent
from .reports.periods import Period, month_of
from .reports.scope import Scope, case_list_conditions, overdue_condition
from .reports.summary import report_for
from .supervision import current_marks, due_soon_until

# The statuses a department's queue holds: the three in which it has the case, and a reopened
# case waiting for the centre to send it again (it is still the department's to redo).
QUEUE_STATUSES = (Status.DISPATCHED, Status.ACCEPTED, Status.REPLIED, Status.REOPENED)
# What a clerk can do from a queue row; replying is on the case page.
ROW_ACTIONS = ("accept", "return", "extension")


def sent_back() -> ColumnElement[bool]:
    """The case was sent back to be done again (退回重办): the centre's review rejected an
    answer or a supervisor reopened it — and it has not been answered again since."""
    returned = exists().where(
        CaseEvent.case_id == Case.id,
        or_(and_(CaseEvent.action == "review", CaseEvent.to_status == Status.ACCEPTED),
            CaseEvent.action == "reopen"))
    return and_(Case.status.in_([Status.DISPATCHED, Status.ACCEPTED, Status.REOPENED]), returned)


def cohandling_pending(department: str) -> ColumnElement[bool]:
    """Cases `department` co-handles (协办) and owes its part for: the lead has not replied
    (and the case was not sent to the department itself since, by a 改派)."""
    return and_(Case.status.in_(AWAITING_DEPARTMENT),
                Case.department_code != department, exists().where(
        CaseCohandler.case_id == Case.id, CaseCohandler.department_code == department,
        CaseCohandler.part_at.is_(None)))


@dataclass(frozen=True)
class Tab:
    code: str
    label: str
    condition: Callable[[], ColumnElement[bool]]
    # The department's own cases (it is the lead); else `cohandled` picks the cases.
    own: bool = True


TABS: tuple[Tab, ...] = (
    Tab("all", "全部在办", lambda: Case.status.in_(QUEUE_STATUSES)),
    Tab("dispatched", "待签收", lambda: Case.status == Status.DISPATCHED),
    Tab("accepted", "办理中", lambda: Case.status == Status.ACCEPTED),
    Tab("replied", "已答复待审核", lambda: Case.status == Status.REPLIED),
    Tab("redo", "退回重办", sent_back),
    Tab("cohandling", "待协办", lambda: Case.id.is_not(None), own=False),
)
TAB_CODES = tuple(t.code for t in TABS)


@dataclass
class Row:
    """One case of the queue with what the desk shows about it."""

    case: Case
    due: str | None  # "overdue", "today", "soon" or None
    reminded: bool  # 催办 for its current deadline
    escalated: bool  # 督办: escalated by the sweep, or a leadership instruction (督办件)
    sent_back: bool
    actions: list[str] = field(default_factory=list)  # what the viewer may do now


@dataclass
class Queue:
    department: str
    tab: str
    rows: list[Row]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]
    soon_until: dt.date
    mine: bool = False


def due_state(c: Any, now: dt.datetime, soon_until: dt.date) -> str | None:
    """How the answer deadline of a case stands: overdue (the list's red), due today, due soon
    (within the reminder lead), or nothing to say."""
    if is_overdue(c, now):
        return "overdue"
    if c.status not in QUEUE_STATUSES or c.due_date is None or c.status == Status.REOPENED:
        return None
    today = local_date(now)
    if c.due_date <= today:
        return "today"
    if c.due_date <= soon_until:
        return "soon"
    return None


def counts(department: str, now: dt.datetime) -> dict[str, int]:
    """How many cases each tab holds, and how many are overdue (one query)."""
    columns = [func.sum(case((t.condition(), 1), else_=0)).label(t.code) for t in TABS if t.own]
    columns.append(func.sum(case((overdue_condition(now), 1), else_=0)).label("overdue"))
    row = db.session.execute(select(*columns).where(
        Case.department_code == department, Case.status.in_(QUEUE_STATUSES))).one()
    out = {key: int(value or 0) for key, value in row._mapping.items()}
    out["cohandling"] = db.session.scalar(select(func.count()).select_from(Case).where(
        cohandling_pending(department))) or 0
    return out


def queue(actor: Actor, department: str, tab: str = "all", *, page: int = 1,
          per_page: int = 50, now: dt.datetime | None = None, mine: bool = False) -> Queue:
    """One page of a tab of the department's queue, 紧急件 first, then soonest deadline first;
    `mine`: only the cases assigned to the viewer (`assign`)."""
    now = now or dt.datetime.now(dt.UTC)
    chosen = next((t for t in TABS if t.code == tab), TABS[0])
    if chosen.own:
        conditions = case_list_conditions({"department": department}, actor, now)
    else:
        conditions = case_list_conditions({}, actor, now) + [cohandling_pending(department)]
    conditions.append(chosen.condition())
    if mine:
        conditions.append(Case.assignee == actor.name)
    total = db.session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    redo = sent_back().label("sent_back")
    found = db.session.execute(
        select(Case, redo).where(*conditions).order_by(*queue_order("due").clauses())
        .offset((page - 1) * per_page).limit(per_page)).all()
    cases = [c for c, _ in found]
    marks = current_marks(cases)
    soon = due_soon_until(local_date(now))
    rows = []
    for c, back in found:
        kinds = marks[c.id]
        rows.append(Row(
            case=c, due=due_state(c, now, soon),
            reminded=any(k.startswith("remind") for k in kinds),
            escalated=c.supervised or any(k.startswith("escalate") for k in kinds),
            sent_back=bool(back),
            actions=allowed_actions(actor, c)))
    return Queue(department=department, tab=chosen.code, rows=rows, total=total, page=page,
                 per_page=per_page, counts=counts(department, now), soon_until=soon, mine=mine)


@dataclass
class Figures:
    period: Period
    on_time_rate: float | None
    replied: int
    replied_on_time: int
    points: int
    deductions: int
    overdue_now: int


def figures(department: str, now: dt.datetime | None = None) -> Figures:
    """The department's own figures: the month's on-time rate (按期答复率, of the cases received
    this month that were answered) and points (积分), as the report computes them, and the
    cases overdue now (超期未答复, whenever received)."""
    now = now or dt.datetime.now(dt.UTC)
    period = month_of(local_date(now))
    rows = report_for(Scope(period, department=department), now=now).ranking()
    mine = next((r for r in rows if r["code"] == department), None) or {}
    overdue = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.department_code == department, overdue_condition(now))) or 0
    return Figures(period=period, on_time_rate=mine.get("on_time_rate"),
                   replied=mine.get("replied", 0), replied_on_time=mine.get("replied_on_time", 0),
                   points=mine.get("points", 0), deductions=mine.get("deductions", 0),
                   overdue_now=overdue)
