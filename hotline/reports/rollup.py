"""The report figures kept current in the same transaction as every step (预汇总).

A summary over a month of a big centre would read a million cases; it reads the rows of
`report_cells` and `report_counts` instead (thousands a month, however many cases). Each case
adds its `contribution` to the cell of its received day, line, category and department (the one
it is with now), and to the breakdowns beside it. Whenever a flush changes a case, its
timeline steps that reports count or its answered surveys, the case's contribution is read
from the database before the flush and again after it, and the difference is added to the
tables in the same transaction: what is committed always sums to what the cases say, and a
step rolled back takes its figures with it. The cases' rows are locked (`FOR UPDATE` on
PostgreSQL) while they are read, so two transactions touching one case add their differences
one after the other.

One definition: `contribution` says what a case counts for, in the words of the report's
definitions (`reports.summary`); the property test checks that the figures read from these
tables equal those computed from the cases after any mix of steps.

What the session does not see: rows written with raw SQL, or ORM bulk statements on cases or
surveys (those are followed here, see `follow_bulk_statement`). Timeline steps that reports count
(`TIMELINE_ACTIONS`) are written through the session by the lifecycle; the sweeps' reminders
and escalations (INSERT … SELECT) are not among them. After a bulk load by other means, run
`hotline report-figures --rebuild`.

"Overdue now" depends on the moment asked: the figures keep the deadline of every case not yet
answered, and the summary adds up those before the moment it is asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE
from sqlalchemy.orm.util import identity_key

from ..domain.deadlines import PROVINCE_TZ
from ..domain.lifecycle import UNANSWERED
from ..models import Case, CaseEvent, Survey
from ..models.figures import (
    CELL_COUNTERS,
    NO_CATEGORY_ID,
    NO_DEPARTMENT_CODE,
    ReportCell,
    ReportCount,
    ReportRebuild,
)

# The timeline steps a report counts (dispatches, returns, extensions and their decisions,
# reopenings, instructions, and the first responses: signed for or answered on the spot).
TIMELINE_ACTIONS = ("dispatch", "return", "extension", "extension-decision", "reopen", "instruct",
                    "accept", "answer")
# Breakdowns kept beside the cells (by day, line and department): the value of one case each
# (channel, kind, the (topic1, topic2) pair, the prefecture: region[:4]), one per answered survey (rating), per
# reply (the local days the round started and the reply came: "working days to reply" is
# counted from them with the calendar of the day it is asked), per return step (the department
# that returned the case and its reason), and the deadline (`due_at`) of each case not yet
# answered: "overdue now" is the sum of those before the moment asked.
DIMENSIONS = ("channel", "kind", "topic12", "prefecture", "rating", "workdays", "return",
              "unanswered_due")
UNANSWERED_STATUSES = frozenset(str(s) for s in UNANSWERED)
CASE_COLUMNS = ("id", "received_at", "line_id", "category_id", "department_code", "channel",
                "kind", "topic1", "topic2", "region", "status", "accepted_at", "accept_due_date",
                "replied_at", "due_date", "supervised", "duplicate_of_id", "deadline_base_at",
                "due_at")
KEY_LIMIT = 200  # a breakdown value longer than this is keyed by its digest
BATCH = 500  # cases read per statement

CellKey = tuple[dt.date, int, int, str]


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PROVINCE_TZ).date()


def within_day(instant: dt.datetime | None, day: dt.date | None) -> bool:
    """The instant falls on or before the local date (the end of the deadline day)."""
    return instant is not None and day is not None and local_day(instant) <= day


def _json_true(value: Any) -> bool:
    return value is True or (type(value) is int and value == 1)


def contribution(case: Any, steps: Iterable[tuple[str, Any]], ratings: Iterable[str]
                 ) -> tuple[CellKey, Counter[str], Counter[tuple[str, str]]]:
    """What one case counts for: its cell, the cell's counters, and its breakdown values.

    `case` has the `CASE_COLUMNS`; `steps` are (action, data) of its timeline steps among
    `TIMELINE_ACTIONS`; `ratings` those of its answered surveys. The same facts as the report's
    SQL (`reports.summary`): a reply on time up to the end of its due date, 签收 on time up to
    the end of the accept date, a case "dispatched", "reopened" or "responded" once however
    many such steps it has.
    """
    key = (local_day(case.received_at), case.line_id,
           case.category_id if case.category_id is not None else NO_CATEGORY_ID,
           case.department_code if case.department_code is not None else NO_DEPARTMENT_CODE)
    c: Counter[str] = Counter(cases=1)
    c["accepted"] = int(case.accepted_at is not None)
    c["accepted_on_time"] = int(within_day(case.accepted_at, case.accept_due_date))
    c["replied"] = int(case.replied_at is not None)
    c["replied_on_time"] = int(within_day(case.replied_at, case.due_date))
    c["closed"] = int(case.status == "closed")
    c["supervised"] = int(bool(case.supervised))
    c["duplicates"] = int(case.duplicate_of_id is not None)
    counts: Counter[tuple[str, str]] = Counter()
    for dimension, value in (("channel", case.channel), ("kind", case.kind),
                             ("topic12", [case.topic1, case.topic2]),
                             ("prefecture", case.region[:4] if case.region is not None
                              else None)):
        counts[(dimension, _encode(value))] += 1
    responded = dispatched = reopened = False
    for action, data in steps:
        data = data if isinstance(data, dict) else {}
        if action == "dispatch":
            dispatched = True
            c["dispatch_steps"] += 1
        elif action == "return":
            c["return_steps"] += 1
            counts[("return", _encode([data.get("department"), data.get("reason")]))] += 1
        elif action == "extension":
            c["extension_steps"] += 1
        elif action == "extension-decision":
            c["decided"] += 1
            if _json_true(data.get("approve")):
                c["approved"] += 1
                days = data.get("working_days")
                c["extension_days"] += int(days) if days is not None else 0
        elif action == "reopen":
            reopened = True
        elif action == "instruct":
            c["instruct_steps"] += 1
        if action in ("accept", "answer"):
            responded = True
    c["dispatched"], c["reopened"], c["responded"] = int(dispatched), int(reopened), \
        int(responded)
    for rating in ratings:
        counts[("rating", _encode(rating))] += 1
    if case.status in UNANSWERED_STATUSES and case.due_at is not None:
        counts[("unanswered_due", _encode(_utc(case.due_at).isoformat()))] += 1
    if case.replied_at is not None:
        counts[("workdays", _encode([local_day(case.deadline_base_at).isoformat(),
                                     local_day(case.replied_at).isoformat()]))] += 1
    return key, c, counts


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC)


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode(value: str) -> Any:
    """A breakdown's value (pairs as tuples)."""
    out = json.loads(value)
    return tuple(out) if isinstance(out, list) else out


def _value_key(value: str) -> str:
    if len(value) <= KEY_LIMIT // 4:  # up to 4 bytes a character in any encoding
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


# --- reading contributions from the database -------------------------------------------------

class Figures:
    """Contributions summed: cell counters and breakdown counts, by key."""

    def __init__(self) -> None:
        self.cells: dict[CellKey, Counter[str]] = defaultdict(Counter)
        self.counts: dict[tuple[CellKey, str, str], int] = defaultdict(int)

    def add(self, key: CellKey, cell: Counter[str], counts: Counter[tuple[str, str]],
            sign: int = 1) -> None:
        target = self.cells[key]
        for name, n in cell.items():
            target[name] += sign * n
        for (dimension, value), n in counts.items():
            self.counts[(key, dimension, value)] += sign * n

    def include(self, other: Figures, sign: int = 1) -> None:
        """Add another sum of contributions to this one (take it away with `sign` -1)."""
        for key, cell in other.cells.items():
            target = self.cells[key]
            for name, n in cell.items():
                target[name] += sign * n
        for key, n in other.counts.items():
            self.counts[key] += sign * n

    def subtract(self, other: Figures) -> Figures:
        out = Figures()
        out.include(self)
        out.include(other, -1)
        return out


def read_contributions(connection: Connection, case_ids: Iterable[int], *,
                       lock: bool = False) -> Figures:
    """The summed contributions of these cases as the database holds them now."""
    out = Figures()
    ids = sorted(set(case_ids))
    t = Case.__table__.c
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        stmt = select(*(t[name] for name in CASE_COLUMNS)).where(t.id.in_(batch)).order_by(t.id)
        if lock and connection.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        for case, steps, ratings in _with_steps(connection, connection.execute(stmt).all(),
                                                batch):
            out.add(*contribution(case, steps, ratings))
    return out


def _with_steps(connection: Connection, cases: list[Any], ids: list[int]
                ) -> Iterator[tuple[Any, list[tuple[str, Any]], list[str]]]:
    e, s = CaseEvent.__table__.c, Survey.__table__.c
    steps: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for case_id, action, data in connection.execute(
            select(e.case_id, e.action, e.data)
            .where(e.case_id.in_(ids), e.action.in_(TIMELINE_ACTIONS)).order_by(e.id)):
        steps[case_id].append((action, data))
    ratings: dict[int, list[str]] = defaultdict(list)
    for case_id, rating in connection.execute(
            select(s.case_id, s.rating).where(s.case_id.in_(ids), s.answered_at.is_not(None),
                                              s.rating.is_not(None))):
        ratings[case_id].append(rating)
    for case in cases:
        yield case, steps.get(case.id, []), ratings.get(case.id, [])


# --- writing differences -----------------------------------------------------------------------

_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert(connection: Connection, table: Any, keys: tuple[str, ...],
            added: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding to the counters (built once per database kind)."""
    name = connection.dialect.name
    if (name, table.name) not in _UPSERTS:
        _UPSERTS[(name, table.name)] = _build_upsert(name, table, keys, added)
    return _UPSERTS[(name, table.name)]


def _build_upsert(name: str, table: Any, keys: tuple[str, ...], added: tuple[str, ...]) -> Any:
    if name == "postgresql":
        stmt = postgresql.insert(table)
    elif name == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the two databases the project runs on
        raise RuntimeError(f"report figures need SQLite or PostgreSQL, not {name}")
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={col: table.c[col] + stmt.excluded[col] for col in added})


CELL_KEY = ("day", "line_id", "category_id", "department_code")
COUNT_KEY = ("day", "line_id", "department_code", "dimension", "value_key")


def apply(connection: Connection, change: Figures) -> None:
    """Add the change (new minus old contributions) to the figures tables."""
    cells = []
    for key, counter in change.cells.items():
        if any(counter.values()):
            cells.append({**dict(zip(CELL_KEY, key, strict=True)),
                          **{name: counter.get(name, 0) for name in CELL_COUNTERS}})
    by_count: dict[tuple[Any, ...], int] = defaultdict(int)
    for ((day, line_id, _, department), dimension, value), n in change.counts.items():
        by_count[(day, line_id, department, dimension, value)] += n
    counts = [{"day": day, "line_id": line_id, "department_code": department,
               "dimension": dimension, "value_key": _value_key(value), "value": value, "n": n}
              for (day, line_id, department, dimension, value), n in by_count.items() if n]
    if cells:
        connection.execute(_upsert(connection, ReportCell.__table__, CELL_KEY, CELL_COUNTERS),
                           cells)
    if counts:
        connection.execute(_upsert(connection, ReportCount.__table__, COUNT_KEY, ("n",)),
                           counts)


# --- following the session ---------------------------------------------------------------------

_PENDING = "report_figures_pending"
CASE_FIELDS = frozenset(CASE_COLUMNS) - {"id"}
SURVEY_FIELDS = frozenset({"case_id", "rating", "answered_at"})
# A relationship set before the flush (`case.category = c`) sets its column during the flush.
CASE_RELATIONS = frozenset({"line", "category", "department", "duplicate_of"})


def read_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Read the contributions of the cases a flush is about to change, as they are now."""
    touched: set[int] = set()
    new_cases: list[Case] = []
    surveys: list[Survey] = []
    new_steps: dict[int, list[CaseEvent]] = defaultdict(list)
    for obj in session.new:
        if isinstance(obj, Case):
            new_cases.append(obj)
        elif isinstance(obj, CaseEvent):
            if obj.action in TIMELINE_ACTIONS:
                case_id = obj.case_id if obj.case_id is not None else getattr(obj.case, "id", None)
                if case_id is not None:
                    touched.add(case_id)  # a new case's steps come with the new case
                    new_steps[case_id].append(obj)
        elif isinstance(obj, Survey) and obj.answered_at is not None:
            case_id = obj.case_id if obj.case_id is not None else getattr(obj.case, "id", None)
            if case_id is not None:
                touched.add(case_id)
                surveys.append(obj)
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, CASE_FIELDS | CASE_RELATIONS):
            touched.add(obj.id)
        elif isinstance(obj, Survey) and _changed(obj, SURVEY_FIELDS | {"case"}):
            touched.add(obj.case_id)
            old = obj._sa_instance_state.attrs.case_id.history.deleted
            touched.update(i for i in old if i is not None)
            surveys.append(obj)
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:  # counted whole when the block ends (`counted_at_the_end`)
        deferred.new.extend(new_cases)
        new_cases = []
        touched -= deferred.ids
    if not touched and not new_cases:
        return
    connection = session.connection()
    old, in_memory, fallback = Figures(), {}, set()
    if touched:
        answered = _answered_surveys(connection, touched)  # locks the cases on PostgreSQL
        rows = {}
        for case_id in touched:
            case = session.identity_map.get(identity_key(Case, case_id))
            row = _before_in_memory(case) if case is not None else None
            if row is None:
                fallback.add(case_id)
            else:
                rows[case_id] = (case, row)
        steps = _steps(connection, rows)
        for case_id, (case, row) in rows.items():
            ratings = answered.get(case_id, {})
            old.add(*contribution(row, steps[case_id], [r for r, _ in ratings.values()]))
            later = steps[case_id] + [(e.action, e) for e in new_steps.get(case_id, [])]
            in_memory[case_id] = (case, ratings, later)
        if fallback:
            old.include(read_contributions(connection, fallback))
    pending = session.info.setdefault(_PENDING, [])
    pending.append((in_memory, fallback, new_cases, surveys, old))


def _answered_surveys(connection: Connection, case_ids: set[int]
                      ) -> dict[int, dict[int, tuple[str, Any]]]:
    """The answered surveys of these cases: case id -> survey id -> (rating, answered at). On
    PostgreSQL the cases' rows are locked first, so that a step of the same case in another
    transaction (a survey answered while the case is sent to another department) waits."""
    c, s = Case.__table__.c, Survey.__table__.c
    ids = sorted(case_ids)
    out: dict[int, dict[int, tuple[str, Any]]] = defaultdict(dict)
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        if connection.dialect.name == "postgresql":
            connection.execute(select(c.id).where(c.id.in_(batch)).order_by(c.id)
                               .with_for_update()).all()
        for case_id, survey_id, rating, answered_at in connection.execute(
                select(s.case_id, s.id, s.rating, s.answered_at)
                .where(s.case_id.in_(batch), s.answered_at.is_not(None),
                       s.rating.is_not(None))):
            out[case_id][survey_id] = (rating, answered_at)
    return out


def _steps(connection: Connection, rows: dict[int, tuple[Case, Any]]
           ) -> dict[int, list[tuple[str, Any]]]:
    """The timeline steps reports count of these cases before this flush: from their loaded
    timelines, or read at once for those not loaded."""
    out: dict[int, list[tuple[str, Any]]] = {}
    unread = []
    for case_id, (case, _) in rows.items():
        events = case._sa_instance_state.dict.get("events")
        if events is None:
            unread.append(case_id)
        else:
            out[case_id] = [(e.action, e.__dict__.get("data")) for e in events
                            if e._sa_instance_state.key is not None
                            and e.action in TIMELINE_ACTIONS]
    e = CaseEvent.__table__.c
    for case_id in unread:
        out[case_id] = []
    for start in range(0, len(unread), BATCH):
        for case_id, action, data in connection.execute(
                select(e.case_id, e.action, e.data)
                .where(e.case_id.in_(unread[start:start + BATCH]),
                       e.action.in_(TIMELINE_ACTIONS)).order_by(e.id)):
            out[case_id].append((action, data))
    return out


def _before_in_memory(case: Case) -> Any | None:
    """A loaded case's values as the database holds them before this flush, or None when
    some are not in memory."""
    state = case._sa_instance_state
    if state.key is None:
        return None
    values = {}
    for name in CASE_COLUMNS:
        if name in state.committed_state:
            value = state.committed_state[name]
        else:
            value = state.dict.get(name, NO_VALUE)
        if value is NO_VALUE or value is NEVER_SET:
            return None
        values[name] = value
    return _Row(values)


def _changed(obj: Any, fields: frozenset[str]) -> bool:
    state = obj._sa_instance_state
    if state.key is None:
        return False
    return any(state.attrs[name].history.has_changes() for name in fields
               if name in state.attrs)


def add_differences(session: Session, flush_context: Any) -> None:
    """Add to the figures what the flush changed in those contributions."""
    deferred = session.info.get(_DEFERRED)
    if deferred is not None and deferred.new:
        deferred.ids.update(case.id for case in deferred.new if case.id is not None)
        deferred.new.clear()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    for in_memory, fallback, new_cases, surveys, old in pending:
        new = Figures()
        ids = set(fallback)
        for case_id, (case, ratings, steps) in in_memory.items():
            now = _now_in_memory(case, ratings, steps, surveys)
            if now is None:
                ids.add(case_id)
            else:
                new.add(*contribution(*now))
        for case in new_cases:
            if case.id is None or case.id in ids or case.id in in_memory:
                continue
            known = _in_memory(session, case)
            if known is None:
                ids.add(case.id)
            else:
                new.add(*contribution(*known))
        if ids:
            new.include(read_contributions(connection, ids))
        apply(connection, new.subtract(old))


def _now_in_memory(case: Case, ratings: dict[int, tuple[str, Any]],
                   steps: list[tuple[str, Any]], surveys: list[Survey]
                   ) -> tuple[Any, list[tuple[str, Any]], list[str]] | None:
    """A case as this flush left it: its values from the session, its timeline and answered
    surveys those read before the flush with the ones this flush wrote."""
    values = case._sa_instance_state.dict
    if any(name not in values for name in CASE_COLUMNS):
        return None
    ratings = dict(ratings)
    for survey in surveys:
        own = survey.__dict__
        if own.get("case_id") != case.id:
            ratings.pop(own.get("id"), None)  # moved to another case (never done; still right)
            continue
        if own.get("answered_at") is not None and own.get("rating") is not None:
            ratings[own["id"]] = (own["rating"], own["answered_at"])
        else:
            ratings.pop(own.get("id"), None)
    # A step written by this flush is kept as (action, event): its data as written.
    steps = [(action, data.__dict__.get("data") if isinstance(data, CaseEvent) else data)
             for action, data in steps]
    return (_Row({name: values[name] for name in CASE_COLUMNS}), steps,
            [rating for rating, _ in ratings.values()])


class _Row:
    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


def _in_memory(session: Session, case: Case) -> tuple[Any, list[tuple[str, Any]], list[str]] | None:
    """A case written by this flush, as `contribution` takes it, from the session alone (intake
    reads nothing back); None when something it needs is not in memory."""
    values = dict(case._sa_instance_state.dict)
    columns = Case.__table__.c
    for name in CASE_COLUMNS:
        if name not in values:
            column = columns[name]
            if column.default is not None or column.server_default is not None:
                return None  # made by the database: not known here
            values[name] = None  # never set: written as NULL
    steps, ratings = [], []
    for obj in session.new:
        if not isinstance(obj, CaseEvent | Survey):
            continue
        own = obj.__dict__  # not the attributes: nothing may be loaded here
        if own.get("case") is not case and own.get("case_id") != case.id:
            continue
        if isinstance(obj, CaseEvent) and obj.action in TIMELINE_ACTIONS:
            steps.append((own.get("id") or 0, obj.action, own.get("data")))
        elif isinstance(obj, Survey) and own.get("answered_at") and own.get("rating"):
            ratings.append(own["rating"])
    steps.sort(key=lambda step: step[0])
    return (_Row({name: values[name] for name in CASE_COLUMNS}),
            [(action, data) for _, action, data in steps], ratings)


def forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.new.clear()  # rolled back: never made


_DEFERRED = "report_figures_deferred"


@dataclass
class _Deferred:
    ids: set[int] = field(default_factory=set)  # the cases made in the block
    new: list[Case] = field(default_factory=list)  # made by the flush under way


@contextmanager
def counted_at_the_end(session: Session) -> Iterator[None]:
    """Cases made in the block are counted into the figures once, when it ends, instead of at
    every flush that changes them: for a block that makes many cases and takes each through
    many steps in one transaction (the demo's history), whose flushes otherwise each read and
    write the figures (four statements a flush on PostgreSQL). Nobody else sees a case before
    its transaction commits, so the figures committed with it are the same. Cases that were
    there before the block are followed at every flush as always. Not nested."""
    deferred = session.info[_DEFERRED] = _Deferred()
    try:
        yield
        session.flush()
        if deferred.ids:
            connection = session.connection()
            apply(connection, read_contributions(connection, deferred.ids))
    finally:
        session.info.pop(_DEFERRED, None)


def follow_bulk_statement(state: Any) -> Any:
    """ORM bulk INSERT/UPDATE of cases or surveys (`session.execute(insert(Case), rows)`):
    the contributions before and after, as for a flush."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    stmt = state.statement
    table = getattr(stmt, "table", None)
    if table is None or table.name not in ("cases", "surveys"):
        return None
    if state.is_update and not _updates_figures(stmt, table.name):
        return None
    connection = state.session.connection()
    deferred = state.session.info.get(_DEFERRED)
    if state.is_insert and table.name == "cases" and not stmt._returning \
            and isinstance(state.parameters, list) and state.parameters:
        result = state.invoke_statement(statement=stmt.returning(table.c.id))
        ids = [row[0] for row in result.all()]
        if deferred is not None:
            deferred.ids.update(ids)
        else:
            apply(connection, read_contributions(connection, ids))
        return result
    if state.is_update or state.is_delete:
        c = table.c
        key = c.id if table.name == "cases" else c.case_id
        where = stmt.whereclause if stmt.whereclause is not None else true()
        later = deferred.ids if deferred is not None else set()
        ids = set(connection.execute(select(key).where(where)).scalars()) - later
        old = read_contributions(connection, ids, lock=True)
        result = state.invoke_statement()
        if table.name == "surveys":
            ids |= set(connection.execute(select(key).where(where)).scalars()) - later
        apply(connection, read_contributions(connection, ids).subtract(old))
        return result
    # Anything else (a bulk INSERT of surveys, with RETURNING already): rebuild later.
    result = state.invoke_statement()
    connection.execute(insert(ReportRebuild.__table__).values(
        reason=f"bulk {type(stmt).__name__.lower()} on {table.name}"))
    return result


def _updates_figures(stmt: Any, table: str) -> bool:
    values = getattr(stmt, "_values", None)
    if not values:
        return True  # values given as parameters: assume they may
    names = {getattr(k, "key", getattr(k, "name", str(k))) for k in values}
    return bool(names & (CASE_FIELDS if table == "cases" else SURVEY_FIELDS))



# --- rebuilding --------------------------------------------------------------------------------

def complete(session: Session) -> bool:
    """Whether the figures tables hold every case (no rebuild pending)."""
    return not session.execute(select(exists().where(ReportRebuild.id.is_not(None)))).scalar()


def rebuild(session: Session, batch: int = 5000) -> int:
    """Count every case again into empty figures tables, in one transaction (PostgreSQL:
    with the tables locked, so steps committed meanwhile add their differences after it).
    Returns the number of cases."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE report_cells, report_counts IN EXCLUSIVE MODE")
    connection.execute(delete(ReportCell.__table__))
    connection.execute(delete(ReportCount.__table__))
    t = Case.__table__.c
    last, total = 0, 0
    while True:
        ids = list(connection.execute(select(t.id).where(t.id > last).order_by(t.id)
                                      .limit(batch)).scalars())
        if not ids:
            break
        figures = Figures()
        for start in range(0, len(ids), BATCH * 4):
            part = ids[start:start + BATCH * 4]
            rows = connection.execute(select(*(t[n] for n in CASE_COLUMNS))
                                      .where(t.id.in_(part))).all()
            for case, steps, ratings in _with_steps(connection, rows, part):
                figures.add(*contribution(case, steps, ratings))
        apply(connection, figures)
        last, total = ids[-1], total + len(ids)
    connection.execute(delete(ReportRebuild.__table__))
    return total
