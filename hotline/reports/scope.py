"""Which cases a report or an export covers: the period and the filters, as SQL conditions.

A report covers the cases *received* in its period (a cohort): every figure of a report —
volume, handling, rates — is about those cases as they stand when the report is made. The
filters are those of the case list: line, channel, topic (any level), category, region (a
division includes the divisions inside it), department, kind.

Who sees what is decided here, for every report, export and bulletin: a handler only ever sees
their own department's cases and figures, whatever they ask for (`Scope.seen_by`,
`case_list_conditions`), and the texts of cases a report quotes are masked as for publication
(`report_text`). A case co-handled (协办) by a department is in that department's lists and
exports of cases (`seen_by_department`, as `lifecycle.may_see` for one case), while the figures
of reports count each case for its lead department only: the one that answers for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from ..domain import phones
from ..domain.deadlines import PROVINCE_TZ, end_of_day, local_date
from ..domain.lifecycle import (
    CLOCK_RUNNING,
    UNANSWERED,
    Actor,
    Role,
    Status,
    narrowed_department,
)
from ..domain.names import (  # noqa: F401  (their home is domain.names)
    CHANNEL_NAMES,
    KIND_NAMES,
    RATING_NAMES,
    STATUS_NAMES,
)
from ..models import Case, CaseCohandler, Category, Line
from .periods import Period

# The case list's `overdue=true` (and the ledger's) counts the statuses whose clock runs; a
# report's "overdue now" (超期未答复) only the unanswered ones (see domain.lifecycle).
LIST_OVERDUE_STATUSES = tuple(CLOCK_RUNNING)
UNANSWERED_STATUSES = tuple(UNANSWERED)
FILTER_KEYS = ("line", "channel", "topic", "category", "region", "department", "kind")


@dataclass(frozen=True)
class Scope:
    """A period and the filters of a report."""

    period: Period
    line: str | None = None
    channel: str | None = None
    topic: str | None = None
    category: str | None = None
    region: str | None = None
    department: str | None = None
    kind: str | None = None

    @classmethod
    def of(cls, period: Period, args: dict[str, Any], actor: Actor | None = None) -> Scope:
        scope = cls(period, **{k: args.get(k) for k in FILTER_KEYS})
        return scope.seen_by(actor) if actor is not None else scope

    def seen_by(self, actor: Actor) -> Scope:
        """This scope as `actor` may see it: a handler's is their own department's
        (`lifecycle.narrowed_department`)."""
        return replace(self, department=narrowed_department(actor, self.department))

    def with_period(self, period: Period) -> Scope:
        return replace(self, period=period)

    @property
    def filters(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FILTER_KEYS if getattr(self, k)}

    def conditions(self, *, received: bool = True) -> list[ColumnElement[bool]]:
        """Conditions on `Case` for this scope; without `received`, the filters only."""
        out: list[ColumnElement[bool]] = []
        if received:
            out += [Case.received_at >= self.period.start_at,
                    Case.received_at < self.period.end_before]
        out += filter_conditions(line=self.line, channel=self.channel, topic=self.topic,
                                 category=self.category, region=self.region,
                                 department=self.department, kind=self.kind)
        return out


def report_text(text: str | None, names: list[str | None] | tuple[str | None, ...] = (),
                limit: int | None = None) -> str:
    """A case's text as a report quotes it (a cluster's sample, a reason to return): personal
    data masked as for publication, then cut to `limit` characters (masking first, so a cut
    never leaves half a phone number unmasked)."""
    from ..services import mask_text

    masked = mask_text(text or "", [n for n in names if n])
    return masked if limit is None else masked[:limit]


def region_prefix(code: str) -> str:
    """Cases of a division include those of the divisions inside it (province > city > county)."""
    code = code[:6]
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def filter_conditions(*, line: str | None = None, channel: str | None = None,
                      topic: str | None = None, category: str | None = None,
                      region: str | None = None, department: str | None = None,
                      kind: str | None = None) -> list[ColumnElement[bool]]:
    """The case list's filters as conditions on `Case` (codes are matched in subqueries, so
    the caller needs no joins)."""
    out: list[ColumnElement[bool]] = []
    line_id = select(Line.id).where(Line.code == line).scalar_subquery() if line else None
    if line_id is not None:
        out.append(Case.line_id == line_id)
    if category:
        ids = select(Category.id).where(Category.code == category)
        if line_id is not None:
            ids = ids.where(Category.line_id == line_id)
        out.append(Case.category_id.in_(ids))
    if channel:
        out.append(Case.channel == channel)
    if kind:
        out.append(Case.kind == kind)
    if department:
        out.append(Case.department_code == department)
    if region:
        out.append(Case.region.startswith(region_prefix(region)))
    if topic:
        out.append(or_(Case.topic1 == topic, Case.topic2 == topic, Case.topic3 == topic))
    return out


def cohandled_by(department: str) -> ColumnElement[bool]:
    """The cases `department` co-handles (协办)."""
    return Case.id.in_(select(CaseCohandler.case_id)
                       .where(CaseCohandler.department_code == department))


def seen_by_department(department: str) -> ColumnElement[bool]:
    """The cases a handler of `department` sees: its own and those it co-handles (the SQL form
    of `lifecycle.may_see`). Reports and the ledger's figures count a case for its lead
    department only; lists and exports of cases show a handler both."""
    return or_(Case.department_code == department, cohandled_by(department))


def duplicate_seen(actor: Actor) -> ColumnElement[bool]:
    """Whether a case seems to repeat an earlier one (疑似重复件) that `actor` may see: the SQL
    form of `services.duplicate_seen_by`, for exports. A handler is not told of a duplicate in
    another department, not even that there is one."""
    if actor.role != Role.HANDLER:
        return Case.duplicate_of_id.is_not(None)
    earlier = aliased(Case)
    return exists(select(earlier.id).where(earlier.id == Case.duplicate_of_id,
                                           earlier.department_code == actor.department_code))


def overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """Past its deadline at `now` and not yet answered (a report's 超期未答复)."""
    return Case.status.in_([str(s) for s in UNANSWERED_STATUSES]) & (Case.due_at < now)


def list_overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """The case list's `overdue=true`."""
    return Case.status.in_([str(s) for s in LIST_OVERDUE_STATUSES]) & (Case.due_at < now)


def instruction_condition(which: str, now: dt.datetime) -> ColumnElement[bool]:
    """Cases with leadership instructions waiting for feedback (`open`), or waiting past their
    day (`overdue`: `lifecycle.instruction_overdue` as a query)."""
    waiting = and_(Case.instruction_due_date.is_not(None), Case.status != Status.CLOSED)
    if which == "overdue":
        return and_(waiting, Case.instruction_due_date < local_date(now))
    return waiting


def case_list_conditions(args: dict[str, Any], actor: Actor,
                      now: dt.datetime) -> list[ColumnElement[bool]]:
    """The conditions of `GET /api/v1/cases` for its query arguments: the case list and the
    ledger export (台账) both select with them, so they always hold the same cases. A handler
    sees their department's cases only (none without a department)."""
    out = filter_conditions(line=args.get("line"), channel=args.get("channel"),
                            topic=args.get("topic"), category=args.get("category"),
                            region=args.get("region"), department=args.get("department"),
                            kind=args.get("kind"))
    if actor.role == Role.HANDLER:
        if not actor.department_code:
            return [false()]
        out.append(seen_by_department(actor.department_code))
    if "status" in args:
        out.append(Case.status == args["status"])
    if "supervised" in args:
        out.append(Case.supervised == args["supervised"])
    if "priority" in args:
        out.append(Case.priority == args["priority"])
    if "assignee" in args:
        out.append(Case.assignee == args["assignee"])
    if "instruction" in args:
        out.append(instruction_condition(args["instruction"], now))
    if "overdue" in args:
        late = list_overdue_condition(now)
        out.append(late if args["overdue"] else ~late)
    if "due_before" in args:
        out.append(Case.due_at <= end_of_day(args["due_before"]))
    if "received_from" in args:
        start = dt.datetime.combine(args["received_from"], dt.time(), tzinfo=PROVINCE_TZ)
        out.append(Case.received_at >= start)
    if "received_to" in args:
        out.append(Case.received_at <= end_of_day(args["received_to"]))
    if "phone" in args:
        key = phones.key(args["phone"])
        out.append(Case.citizen_phone_key == key if key else false())
    if "name" in args:
        out.append(Case.citizen_name.contains(args["name"].strip(), autoescape=True))
    if "q" in args:
        for word in args["q"].split():
            pattern = f"%{word}%"
            out.append(or_(Case.content.like(pattern), Case.number.like(pattern),
                           Case.citizen_enterprise.like(pattern)))
    return out
