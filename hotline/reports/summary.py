"""The report of a period (办理情况分析): volume, handling, outcome and the departments ranked.

Every figure is about the cases *received* in the period (see `scope`), as they stand at `now`.
The rates are fixed here, and the API document and bulletins repeat them:

- response rate (回应率) = cases with a first response — signed for by a department (签收) or
  answered on the spot (即时答复), at any time, in any round — / cases received;
- on-time rate (按期答复率) = cases replied or answered by their deadline / cases replied or
  answered. A reply counts as on time up to 23:59:59 local time on `due_date` (the end of the
  deadline day, seconds' fractions included); an approved extension moves `due_date`, so a reply
  within the extension is on time; a reopened case (重办) counts with its current round: its
  new reply against its new deadline, and it is not "replied" until then;
- resolution rate (办结率) = cases closed now / cases received (a reopened case is not closed);
- satisfaction rate (满意率) = answered surveys rated 满意 or 基本满意 / answered surveys, with
  the number answered (every answered survey counts, the first and that of a reopened round);
- working days to reply = working days (the working-day calendar, 调休 included) after the day
  the current round started (received, or reopened) up to the day of the reply: 0 for a reply
  on the same day, 1 for the next working day; the average and the 90th percentile (nearest
  rank) over the replies;
- accepted on time (按时签收) = signed for by the end of `accept_due_date`;
- overdue now (超期未答复) = not yet replied or answered and past `due_at` (the case list's
  `overdue=true` also counts replies waiting for the centre's review; a report does not hold
  that wait against the department);
- returned (退单): return steps on the timeline, with their reasons, counted against the
  department that returned the case.

Departments are ranked on the points ledger of the supervision sweeps (积分, highest first), then
on-time rate, satisfaction, fewer overdue cases and volume; `rank_by` ranks on another figure.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true

from ..domain.deadlines import PROVINCE_TZ
from ..domain.lifecycle import Status
from ..domain.workdays import WorkCalendar
from ..extensions import db
from ..models import Case, CaseEvent, Category, Department, Line, PointsEntry, Survey
from ..models.figures import (
    CELL_COUNTERS,
    NO_CATEGORY_ID,
    NO_DEPARTMENT_CODE,
    ReportCell,
    ReportCount,
)
from ..models.types import utcnow
from . import figures, rollup
from .periods import Period, month_of, week_of
from .scope import (
    CHANNEL_NAMES,
    KIND_NAMES,
    RATING_NAMES,
    Scope,
    overdue_condition,
    report_text,
)
from .sql import local_day, within_day

RANK_KEYS = ("points", "on_time_rate", "response_rate", "resolution_rate", "satisfaction_rate",
             "overdue_now", "assigned")
SATISFIED = ("satisfied", "basically_satisfied")
TIMELINE_ACTIONS = rollup.TIMELINE_ACTIONS
NO_REGION = "未标注地区"
NO_CATEGORY = "未分类"
NO_TOPIC = "未分类"
BREAKDOWNS = ("category_id", "channel", "kind", "topic1")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _case_flags(now: dt.datetime) -> dict[str, ColumnElement[Any]]:
    """Per-case facts summed in one pass over the cases."""
    return {
        "count": func.count(),
        "accepted": _flag(Case.accepted_at.is_not(None)),
        "accepted_on_time": _flag(and_(Case.accepted_at.is_not(None),
                                       within_day(Case.accepted_at, Case.accept_due_date))),
        "replied": _flag(Case.replied_at.is_not(None)),
        "replied_on_time": _flag(and_(Case.replied_at.is_not(None),
                                      within_day(Case.replied_at, Case.due_date))),
        "closed": _flag(Case.status == Status.CLOSED.value),
        "open": _flag(Case.status != Status.CLOSED.value),
        "overdue_now": _flag(overdue_condition(now)),
        "supervised": _flag(Case.supervised == true()),
        "duplicates": _flag(Case.duplicate_of_id.is_not(None)),
    }


FLAG_KEYS = tuple(_case_flags(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def _add(into: dict[str, int], row: Any) -> None:
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    for key in FLAG_KEYS:
        into[key] = into.get(key, 0) + int(get(key) or 0)


class Report:
    """Builds the summary of one scope; each section is one or two grouped queries."""

    def __init__(self, scope: Scope, *, now: dt.datetime | None = None,
                 calendar: WorkCalendar | None = None):
        self.scope = scope
        self.now = now or utcnow()
        if calendar is None:
            from ..services import work_calendar

            calendar = work_calendar()
        self.calendar = calendar
        self.where = scope.conditions()
        self._cache: dict[str, Any] = {}

    # --- building blocks -------------------------------------------------------------------

    def _grouped(self, *keys: ColumnElement[Any], flags: bool = True) -> list[Any]:
        columns: list[Any] = list(keys)
        if flags:
            columns += [c.label(k) for k, c in _case_flags(self.now).items()]
        else:
            columns.append(func.count().label("count"))
        stmt = select(*columns).where(*self.where)
        if keys:
            stmt = stmt.group_by(*keys)
        return db.session.execute(stmt).all()

    def departments(self) -> dict[str, Department]:
        return self._memo("departments", lambda: {
            d.code: d for d in db.session.scalars(select(Department))})

    # --- sections ----------------------------------------------------------------------------

    def volume(self) -> dict[str, Any]:
        categories = {c.id: c for c in db.session.scalars(select(Category))}
        lines = {li.id: li for li in db.session.scalars(select(Line))}
        breakdowns = self._breakdowns()
        by_category, by_channel = breakdowns["category_id"], breakdowns["channel"]
        by_kind, by_topic = breakdowns["kind"], breakdowns["topic1"]
        # Largest first; equal counts in the order the categories were defined, 未分类 last.
        cat_rows = []
        for cat_id, count in sorted(by_category.items(),
                                    key=lambda kv: (-kv[1], kv[0] is None, kv[0] or 0)):
            cat = categories.get(cat_id) if cat_id is not None else None
            line = lines[cat.line_id] if cat else None
            cat_rows.append({"line": line.code if line else None,
                             "line_name": line.name if line else None,
                             "code": cat.code if cat else None,
                             "name": cat.name if cat else NO_CATEGORY, "count": count})
        channels = [{"code": k, "name": CHANNEL_NAMES.get(k, k), "count": v}
                    for k, v in sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0]))]
        kinds = [{"code": k, "name": KIND_NAMES.get(k, k), "count": v}
                 for k, v in sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))]
        topics = [{"topic": k, "name": k or NO_TOPIC, "count": v}
                  for k, v in sorted(by_topic.items(), key=lambda kv: (-kv[1], kv[0] or "~"))]
        regions, series = self._regions_and_series()
        return {
            "total": sum(r["count"] for r in cat_rows),
            "by_category": figures.with_percents(cat_rows),
            "by_topic": figures.with_percents(topics),
            "by_channel": figures.with_percents(channels),
            "by_kind": figures.with_percents(kinds),
            "by_region": figures.with_percents(regions),
            **series,
        }

    def _regions_and_series(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        by_region, by_day = self._region_day_counts()
        regions = []
        for prefix, count in by_region.items():
            code = f"{prefix}00" if prefix else None
            regions.append({"code": code, "name": region_name(code), "count": count})
        regions.sort(key=lambda r: (-r["count"], r["code"] or "~"))
        return regions, time_series(self.scope.period, by_day)

    def handling(self) -> dict[str, Any]:
        totals = self._totals()
        actions = self._action_counts()
        returns = self._returns()
        decisions = self._extension_decisions()
        workdays = self._working_days()
        approved = sum(d["approved"] for d in decisions.values())
        decided = sum(d["decided"] for d in decisions.values())
        reasons: dict[str, int] = defaultdict(int)
        for (_, reason), count in returns.items():
            reasons[reason] += count
        return {
            "received": totals.get("count", 0),
            "dispatched": actions["dispatch_cases"],
            "redispatched": actions["dispatch_steps"] - actions["dispatch_cases"],
            "accepted": totals.get("accepted", 0),
            "accepted_on_time": totals.get("accepted_on_time", 0),
            "accept_on_time_rate": figures.rate(totals.get("accepted_on_time", 0),
                                                totals.get("accepted", 0)),
            "returned": actions["return_steps"],
            "return_reasons": [{"reason": report_text(r), "count": c} for r, c in
                               sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:10]],
            "extensions_requested": actions["extension_steps"],
            "extensions_approved": approved,
            "extensions_refused": decided - approved,
            "extension_days_granted": sum(d["days"] for d in decisions.values()),
            "replied": totals.get("replied", 0),
            "replied_on_time": totals.get("replied_on_time", 0),
            "overdue_now": totals.get("overdue_now", 0),
            "open_now": totals.get("open", 0),
            "supervised": totals.get("supervised", 0),
            "instructions": actions["instruct_steps"],
            "duplicates": totals.get("duplicates", 0),
            "working_days_to_reply": {
                "average": figures.weighted_mean(workdays["all"]),
                "p90": figures.weighted_percentile(workdays["all"], 90),
                "replies": sum(w for _, w in workdays["all"]),
            },
        }

    def outcome(self) -> dict[str, Any]:
        totals = self._totals()
        responded = self._responded()
        surveys = self._surveys()
        ratings = {key: 0 for key in RATING_NAMES}
        for (_, rating), count in surveys.items():
            if rating in ratings:
                ratings[rating] += count
        answered = sum(ratings.values())
        return {
            "response_rate": figures.rate(sum(responded.values()), totals.get("count", 0)),
            "on_time_rate": figures.rate(totals.get("replied_on_time", 0),
                                         totals.get("replied", 0)),
            "resolution_rate": figures.rate(totals.get("closed", 0), totals.get("count", 0)),
            "satisfaction_rate": figures.rate(sum(ratings[k] for k in SATISFIED), answered),
            "surveys_answered": answered,
            "ratings": [{"code": k, "name": RATING_NAMES[k], "count": v}
                        for k, v in ratings.items()],
            "reopened": self._action_counts()["reopen_cases"],
        }

    def ranking(self, rank_by: str = "points") -> list[dict[str, Any]]:
        per: dict[str, dict[str, Any]] = {}

        def entry(code: str) -> dict[str, Any]:
            if code not in per:
                per[code] = {k: 0 for k in FLAG_KEYS}
                per[code].update(responded=0, returned=0, extensions=0, surveys_answered=0,
                                 satisfied=0, points=0, deductions=0)
            return per[code]

        for code, flags in self._department_flags().items():
            if code:
                _add(entry(code), flags)
        for code, count in self._responded().items():
            if code:
                entry(code)["responded"] += count
        for (code, _), count in self._returns().items():
            if code:
                entry(code)["returned"] += count
        for code, d in self._extension_decisions().items():
            if code:
                entry(code)["extensions"] += d["approved"]
        for (code, rating), count in self._surveys().items():
            if code:
                e = entry(code)
                e["surveys_answered"] += count
                if rating in SATISFIED:
                    e["satisfied"] += count
        for code, (points, deductions) in self._points().items():
            entry(code)["points"] += points
            entry(code)["deductions"] += deductions
        workdays = self._working_days()
        if self.scope.department:
            per = {k: v for k, v in per.items() if k == self.scope.department}
        names = self.departments()
        out = []
        for code, e in per.items():
            out.append({
                "code": code,
                "name": names[code].name if code in names else code,
                "assigned": e["count"],
                "responded": e["responded"],
                "accepted_on_time": e["accepted_on_time"],
                "returned": e["returned"],
                "extensions": e["extensions"],
                "replied": e["replied"],
                "replied_on_time": e["replied_on_time"],
                "overdue_now": e["overdue_now"],
                "closed": e["closed"],
                "response_rate": figures.percent(e["responded"], e["count"]),
                "on_time_rate": figures.percent(e["replied_on_time"], e["replied"]),
                "resolution_rate": figures.percent(e["closed"], e["count"]),
                "satisfaction_rate": figures.percent(e["satisfied"], e["surveys_answered"]),
                "surveys_answered": e["surveys_answered"],
                "avg_working_days_to_reply": figures.weighted_mean(workdays["by_department"]
                                                                   .get(code, [])),
                "points": e["points"],
                "deductions": e["deductions"],
            })
        out.sort(key=_rank_key(rank_by))
        for i, row in enumerate(out, 1):
            row["rank"] = i
        return out

    # --- queries shared by the sections (each run once) -------------------------------------

    def _memo(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    def _cohort(self) -> list[Any]:
        """The scope's cases grouped by category, channel, kind, topic and department, with
        their facts: one scan gives the volume, the totals and the departments' figures."""
        return self._memo("cohort", lambda: self._grouped(
            Case.category_id, Case.channel, Case.kind, Case.topic1, Case.department_code))

    def _breakdowns(self) -> dict[str, dict[Any, int]]:
        """Cases by category_id, channel, kind and topic1."""
        def compute() -> dict[str, dict[Any, int]]:
            out: dict[str, dict[Any, int]] = {k: defaultdict(int) for k in BREAKDOWNS}
            for row in self._cohort():
                for key in BREAKDOWNS:
                    out[key][getattr(row, key)] += row.count
            return out

        return self._memo("breakdowns", compute)

    def _department_flags(self) -> dict[str | None, dict[str, int]]:
        """The facts of the scope's cases (`FLAG_KEYS`) by the department they are with."""
        def compute() -> dict[str | None, dict[str, int]]:
            out: dict[str | None, dict[str, int]] = {}
            for row in self._cohort():
                _add(out.setdefault(row.department_code, {}), row)
            return out

        return self._memo("department_flags", compute)

    def _region_day_counts(self) -> tuple[dict[str | None, int], dict[dt.date, int]]:
        """Cases by prefecture (the region's first four digits) and by local day."""
        prefecture = func.substr(Case.region, 1, 4)
        day = local_day(Case.received_at)
        rows = self._grouped(prefecture.label("prefecture"), day.label("day"), flags=False)
        by_region: dict[str | None, int] = defaultdict(int)
        by_day: dict[dt.date, int] = defaultdict(int)
        for row in rows:
            by_region[row.prefecture] += row.count
            by_day[_as_date(row.day)] += row.count
        return by_region, by_day

    def _totals(self) -> dict[str, int]:
        def compute() -> dict[str, int]:
            totals = {k: 0 for k in FLAG_KEYS}
            for flags in self._department_flags().values():
                for key in FLAG_KEYS:
                    totals[key] += flags.get(key, 0)
            return totals

        return self._memo("totals", compute)

    def _timeline(self) -> list[Any]:
        """One pass over the timeline steps of the scope's cases, first per case (grouped by
        the case, which lets the database walk the cases in order with no sort), then by the
        case's department now. Conditions leave the department out (a returned case has left
        the department that returned it); `_mine` applies it afterwards."""
        def compute() -> list[Any]:
            e = CaseEvent
            act = e.action

            def has(condition: ColumnElement[bool]) -> ColumnElement[int]:
                return func.max(case((condition, 1), else_=0))

            approved = and_(act == "extension-decision",
                            e.data["approve"].as_boolean() == true())
            per_case = (select(
                Case.department_code.label("department"),
                has(act == "dispatch").label("dispatched"),
                _flag(act == "dispatch").label("dispatch_steps"),
                _flag(act == "return").label("return_steps"),
                _flag(act == "extension").label("extension_steps"),
                has(act == "reopen").label("reopened"),
                _flag(act == "instruct").label("instruct_steps"),
                has(act.in_(["accept", "answer"])).label("responded"),
                _flag(act == "extension-decision").label("decided"),
                _flag(approved).label("approved"),
                func.sum(case((approved, e.data["working_days"].as_integer()), else_=0))
                .label("days"),
            ).select_from(e).join(Case, Case.id == e.case_id)
                .where(act.in_(TIMELINE_ACTIONS), *_without_department(self.scope).conditions())
                .group_by(Case.id).subquery())
            c = per_case.c
            stmt = select(
                c.department, func.sum(c.dispatched).label("dispatch_cases"),
                *(func.sum(getattr(c, k)).label(k) for k in (
                    "dispatch_steps", "return_steps", "extension_steps", "instruct_steps",
                    "responded", "decided", "approved", "days")),
                func.sum(c.reopened).label("reopen_cases"),
            ).group_by(c.department)
            return db.session.execute(stmt).all()

        return self._memo("timeline", compute)

    def _mine(self, department: str | None) -> bool:
        return not self.scope.department or department == self.scope.department

    def _action_counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("dispatch_steps", "dispatch_cases", "return_steps",
                              "extension_steps", "reopen_cases", "instruct_steps")}
        for row in self._timeline():
            if self._mine(row.department):
                for key in out:
                    if key != "return_steps":
                        out[key] += int(getattr(row, key) or 0)
        out["return_steps"] = sum(self._returns().values())
        return out

    def _responded(self) -> dict[str | None, int]:
        """Cases with a first response (签收 or 即时答复), by their department now."""
        out: dict[str | None, int] = defaultdict(int)
        for row in self._timeline():
            if self._mine(row.department):
                out[row.department] += int(row.responded or 0)
        return out

    def _returns(self) -> dict[tuple[str | None, str], int]:
        """Return steps (退单) by the department that returned the case and the reason given
        (held against that department, whichever has the case now)."""
        def compute() -> dict[tuple[str | None, str], int]:
            if not any(row.return_steps for row in self._timeline()):
                return {}  # the common case: no second pass over the timeline
            out: dict[tuple[str | None, str], int] = defaultdict(int)
            for department, reason, steps in self._return_steps():
                if self._mine(department):
                    out[(department, (reason or "").strip() or "未说明")] += steps
            return out

        return self._memo("returns", compute)

    def _return_steps(self) -> list[tuple[str | None, str | None, int]]:
        """(department that returned the case, reason as given, steps), whichever department
        has the case now."""
        returned_by = CaseEvent.data["department"].as_string()
        reason = CaseEvent.data["reason"].as_string()
        stmt = (select(returned_by.label("department"), reason.label("reason"),
                       func.count().label("steps"))
                .select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
                .where(CaseEvent.action == "return",
                       *_without_department(self.scope).conditions())
                .group_by(returned_by, reason))
        return [(row.department, row.reason, row.steps) for row in db.session.execute(stmt)]

    def _extension_decisions(self) -> dict[str | None, dict[str, int]]:
        out: dict[str | None, dict[str, int]] = {}
        for row in self._timeline():
            if row.decided and self._mine(row.department):
                d = out.setdefault(row.department, {"decided": 0, "approved": 0, "days": 0})
                d["decided"] += int(row.decided)
                d["approved"] += int(row.approved or 0)
                d["days"] += int(row.days or 0)
        return out

    def _surveys(self) -> dict[tuple[str | None, str], int]:
        def compute() -> dict[tuple[str | None, str], int]:
            stmt = (select(Case.department_code, Survey.rating, func.count().label("n"))
                    .select_from(Survey).join(Case, Case.id == Survey.case_id)
                    .where(Survey.answered_at.is_not(None), Survey.rating.is_not(None),
                           *self.where)
                    .group_by(Case.department_code, Survey.rating))
            return {(row.department_code, row.rating): row.n for row in db.session.execute(stmt)}

        return self._memo("surveys", compute)

    def _points(self) -> dict[str, tuple[int, int]]:
        """Points booked in the period (by the date of the entry, not of the case's receipt:
        a deduction in October for a September case is October's)."""
        def compute() -> dict[str, tuple[int, int]]:
            period = self.scope.period
            stmt = (select(PointsEntry.department_code,
                           func.sum(PointsEntry.points).label("points"),
                           _flag(PointsEntry.points < 0).label("deductions"))
                    .where(PointsEntry.at >= period.start_at, PointsEntry.at < period.end_before)
                    .group_by(PointsEntry.department_code))
            case_filters = _without_department(self.scope).conditions(received=False)
            if case_filters:
                # A sweep's entry names its case and follows the case's line, category...;
                # an entry without a case (a manual adjustment) counts in every scope.
                stmt = stmt.outerjoin(Case, Case.id == PointsEntry.case_id).where(
                    or_(PointsEntry.case_id.is_(None), and_(*case_filters)))
            if self.scope.department:
                stmt = stmt.where(PointsEntry.department_code == self.scope.department)
            return {row.department_code: (int(row.points or 0), int(row.deductions or 0))
                    for row in db.session.execute(stmt)}

        return self._memo("points", compute)

    def topic_counts(self) -> Counter[str]:
        """Cases by level-2 topic ("topic1/topic2", or level 1 alone), for hot issues."""
        stmt = (select(Case.topic1, Case.topic2, func.count().label("n"))
                .where(*self.where).group_by(Case.topic1, Case.topic2))
        out: Counter[str] = Counter()
        for row in db.session.execute(stmt):
            if row.topic1:
                out["/".join(t for t in (row.topic1, row.topic2) if t)] += row.n
        return out

    def _reply_days(self) -> list[tuple[str | None, Any, Any, int]]:
        """(department, local day the round started, local day of the reply, replies)."""
        base = local_day(Case.deadline_base_at).label("base")
        reply = local_day(Case.replied_at).label("reply")
        stmt = (select(Case.department_code, base, reply, func.count().label("n"))
                .where(Case.replied_at.is_not(None), *self.where)
                .group_by(Case.department_code, base, reply))
        return [(row.department_code, row.base, row.reply, row.n)
                for row in db.session.execute(stmt)]

    def _working_days(self) -> dict[str, Any]:
        """(working days, number of replies) pairs, overall and by department."""
        def compute() -> dict[str, Any]:
            overall: dict[int, int] = defaultdict(int)
            by_dep: dict[str | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
            memo: dict[tuple[dt.date, dt.date], int] = {}
            for department, base, reply, n in self._reply_days():
                key = (_as_date(base), _as_date(reply))
                if key not in memo:
                    memo[key] = self.calendar.working_days_between(*key)
                overall[memo[key]] += n
                by_dep[department][memo[key]] += n
            return {"all": list(overall.items()),
                    "by_department": {k: list(v.items()) for k, v in by_dep.items()}}

        return self._memo("workdays", compute)


def _without_department(scope: Scope) -> Scope:
    return replace(scope, department=None)


def _rank_key(rank_by: str) -> Callable[[dict[str, Any]], tuple]:
    def missing_last(value: float | None) -> tuple[int, float]:
        return (1, 0.0) if value is None else (0, -value)

    def key(row: dict[str, Any]) -> tuple:
        lead: tuple
        if rank_by == "overdue_now":
            lead = (row["overdue_now"],)
        elif rank_by == "assigned":
            lead = (-row["assigned"],)
        elif rank_by == "points":
            lead = (-row["points"],)
        else:
            lead = missing_last(row[rank_by])
        return (*lead, -row["points"], missing_last(row["on_time_rate"]),
                missing_last(row["satisfaction_rate"]), row["overdue_now"], -row["assigned"],
                row["code"])

    return key


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def region_name(code: str | None) -> str:
    """The division's short name (from the routing area's division table when it is there)."""
    if not code:
        return NO_REGION
    try:
        from routing.places import display_name
    except ImportError:  # routing not installed: the code is still an answer
        return code
    return display_name(code)


def time_series(period: Period, by_day: dict[dt.date, int]) -> dict[str, list[dict[str, Any]]]:
    """Cases per day, ISO week and month of the period (days without cases count 0; the first
    and last week or month are cut to the period and say so with their dates)."""
    days = []
    weeks: dict[str, dict[str, Any]] = {}
    months: dict[str, dict[str, Any]] = {}
    day = period.start
    while day <= period.end:
        n = by_day.get(day, 0)
        days.append({"date": day.isoformat(), "count": n})
        for table, unit in ((weeks, week_of(day)), (months, month_of(day))):
            row = table.setdefault(unit.label, {"period": unit.label, "from": day.isoformat(),
                                                "to": day.isoformat(), "count": 0})
            row["to"] = day.isoformat()
            row["count"] += n
        day += dt.timedelta(days=1)
    return {"by_day": days, "by_week": list(weeks.values()), "by_month": list(months.values())}


def build_summary(scope: Scope, *, now: dt.datetime | None = None,
                  calendar: WorkCalendar | None = None, rank_by: str = "points",
                  sections: tuple[str, ...] = ("hot", "phone")) -> dict[str, Any]:
    """The whole report of a scope as the API returns it (`GET /api/v1/stats/summary`)."""
    report = report_for(scope, now=now, calendar=calendar)
    period = scope.period
    out: dict[str, Any] = {
        "period": {"label": period.label, "kind": period.kind, "title": period.title,
                   "from": period.start.isoformat(), "to": period.end.isoformat()},
        "filters": scope.filters,
        "as_of": report.now.astimezone(PROVINCE_TZ).isoformat(),
    }
    out.update(report.volume())
    out["handling"] = report.handling()
    out["outcome"] = report.outcome()
    out["departments"] = report.ranking(rank_by)
    if "hot" in sections:
        from .hot import hot_issues

        out["hot"] = hot_issues(scope, report)
    if "phone" in sections:
        from .phone import phone_figures

        out["phone"] = phone_figures(scope)
    return out


class RolledUpReport(Report):
    """The same report read from the figures kept with every step (`reports.rollup`): rows of
    days × lines × categories × departments, not the cases ("overdue now" from the deadlines of
    the cases not yet answered, kept there too). Serves scopes filtered by line and department (a handler's report); `report_for`
    gives the other filters to `Report`."""

    def _where(self, table: Any) -> list[ColumnElement[bool]]:
        """The scope's period and line (and category, on cells) on a figures table."""
        scope = self.scope
        out: list[ColumnElement[bool]] = [table.c.day >= scope.period.start,
                                          table.c.day <= scope.period.end]
        line_id = (select(Line.id).where(Line.code == scope.line).scalar_subquery()
                   if scope.line else None)
        if line_id is not None:
            out.append(table.c.line_id == line_id)
        if scope.category and "category_id" in table.c:
            ids = select(Category.id).where(Category.code == scope.category)
            if line_id is not None:
                ids = ids.where(Category.line_id == line_id)
            out.append(table.c.category_id.in_(ids))
        return out

    def _in_department(self, code: str | None) -> bool:
        return not self.scope.department or code == self.scope.department

    def _cells_by(self, column: str) -> list[Any]:
        t = ReportCell.__table__
        stmt = (select(t.c[column].label("key"),
                       *(func.sum(t.c[name]).label(name) for name in CELL_COUNTERS))
                .where(*self._where(t)).group_by(t.c[column]))
        if column != "department_code" and self.scope.department:
            stmt = stmt.where(t.c.department_code == self.scope.department)
        return db.session.execute(stmt).all()

    def _by_department(self) -> dict[str | None, Any]:
        return self._memo("cells_by_department", lambda: {
            _department(row.key): row for row in self._cells_by("department_code")})

    def _counts(self) -> dict[str, list[tuple[str | None, Any, int]]]:
        """Every breakdown of the scope: dimension -> (department, value, count)."""
        def compute() -> dict[str, list[tuple[str | None, Any, int]]]:
            t = ReportCount.__table__
            stmt = (select(t.c.dimension, t.c.department_code, func.min(t.c.value).label("value"),
                           func.sum(t.c.n).label("n"))
                    .where(*self._where(t))
                    .group_by(t.c.dimension, t.c.department_code, t.c.value_key))
            out: dict[str, list[tuple[str | None, Any, int]]] = defaultdict(list)
            for row in db.session.execute(stmt):
                if row.n:
                    out[row.dimension].append((_department(row.department_code),
                                               rollup.decode(row.value), int(row.n)))
            return out

        return self._memo("counts", compute)

    def _count_by(self, dimension: str) -> dict[Any, int]:
        out: dict[Any, int] = defaultdict(int)
        for department, value, n in self._counts()[dimension]:
            if self._in_department(department):
                out[value] += n
        return out

    def _overdue_now(self) -> dict[str | None, int]:
        """Cases not yet answered whose deadline (`due_at`) is before `now`, by department."""
        def compute() -> dict[str | None, int]:
            now = self.now.astimezone(dt.UTC)
            out: dict[str | None, int] = defaultdict(int)
            for department, due_at, n in self._counts()["unanswered_due"]:
                if dt.datetime.fromisoformat(due_at) < now:
                    out[department] += n
            return out

        return self._memo("overdue", compute)

    def _department_flags(self) -> dict[str | None, dict[str, int]]:
        def compute() -> dict[str | None, dict[str, int]]:
            overdue = self._overdue_now()
            out: dict[str | None, dict[str, int]] = {}
            for code, row in self._by_department().items():
                if not self._in_department(code) or not row.cases:
                    continue
                flags = {key: int(getattr(row, key) or 0) for key in (
                    "accepted", "accepted_on_time", "replied", "replied_on_time", "closed",
                    "supervised", "duplicates")}
                flags.update(count=int(row.cases), open=int(row.cases) - flags["closed"],
                             overdue_now=overdue.get(code, 0))
                out[code] = flags
            return out

        return self._memo("department_flags", compute)

    def _breakdowns(self) -> dict[str, dict[Any, int]]:
        def compute() -> dict[str, dict[Any, int]]:
            by_category: dict[Any, int] = {}
            for row in self._cells_by("category_id"):
                if row.cases:
                    key = None if row.key == NO_CATEGORY_ID else row.key
                    by_category[key] = int(row.cases)
            by_topic: dict[Any, int] = defaultdict(int)
            for (topic1, _), n in self._count_by("topic12").items():
                by_topic[topic1] += n
            return {"category_id": by_category, "topic1": by_topic,
                    **{key: self._count_by(key) for key in ("channel", "kind")}}

        return self._memo("breakdowns", compute)

    def _region_day_counts(self) -> tuple[dict[str | None, int], dict[dt.date, int]]:
        by_day = {_as_date(row.key): int(row.cases) for row in self._cells_by("day")
                  if row.cases}
        return self._count_by("prefecture"), by_day

    def _timeline(self) -> list[Any]:
        rows = []
        for code, row in self._by_department().items():
            rows.append(_Steps(
                department=code, dispatch_cases=row.dispatched, reopen_cases=row.reopened,
                days=row.extension_days, **{key: getattr(row, key) for key in (
                    "dispatch_steps", "return_steps", "extension_steps", "instruct_steps",
                    "responded", "decided", "approved")}))
        return rows

    def _return_steps(self) -> list[tuple[str | None, str | None, int]]:
        steps: dict[tuple[str | None, str | None], int] = defaultdict(int)
        for _, (department, reason), n in self._counts()["return"]:
            steps[(department, reason)] += n
        return [(department, reason, n) for (department, reason), n in steps.items()]

    def _surveys(self) -> dict[tuple[str | None, str], int]:
        out: dict[tuple[str | None, str], int] = defaultdict(int)
        for department, rating, n in self._counts()["rating"]:
            if self._in_department(department):
                out[(department, rating)] += n
        return dict(out)

    def _reply_days(self) -> list[tuple[str | None, Any, Any, int]]:
        return [(department, base, reply, n)
                for department, (base, reply), n in self._counts()["workdays"]
                if self._in_department(department)]

    def topic_counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (topic1, topic2), n in self._count_by("topic12").items():
            if topic1:
                out["/".join(t for t in (topic1, topic2) if t)] += n
        return out


class _Steps:
    """A department's timeline counts, as `Report._timeline` gives them."""

    def __init__(self, **values: Any):
        self.__dict__.update(values)


def _department(code: str | None) -> str | None:
    return None if code in (None, NO_DEPARTMENT_CODE) else code


def report_for(scope: Scope, *, now: dt.datetime | None = None,
               calendar: WorkCalendar | None = None) -> Report:
    """The report of a scope, read from the figures tables when they hold every case and the
    scope filters by line or department only; from the cases otherwise."""
    if scope.channel or scope.topic or scope.region or scope.kind or scope.category \
            or not rollup.complete(db.session):
        return Report(scope, now=now, calendar=calendar)
    return RolledUpReport(scope, now=now, calendar=calendar)
