"""Pages of the case list: the orderings, keyset cursors for deep pages, and cheap counts.

One place for what the API's `GET /api/v1/cases`, the console's case search and its work
queues do with a set of conditions: order them (`LIST_ORDER`), cut one page, count them.

- **Orderings walk an index.** `sort=due` orders by the stored `due_key` (the deadline, cases
  without one last) and the id: `ix_cases_status_due_key` / `ix_cases_department_status_due_key`
  serve `status=…&sort=due` and a department's queue without sorting.
- **Deep pages by keyset** (游标分页). `page=N` skips N-1 pages of rows, which costs as much as
  reading them; each page also answers with `next_cursor`, the sort key of its last row, and
  `cursor=…` starts the next page right after that row — the index is entered at the row, so
  page 5,000 costs what page 1 costs. A cursor is tied to its ordering: with another `sort`
  it is refused (400), as is one that does not decode.
- **Counts that stay cheap.** Up to `COUNT_EXACT_UP_TO` matching cases are counted exactly
  (the count reads at most that many index entries). Past it PostgreSQL answers with its
  planner's estimate (`EXPLAIN`, from the table's statistics: no rows read) and the page says
  `total_exact: false`; counting six million closed cases at 10M would cost half a second a
  page. SQLite, the one-machine database, has no estimates and counts exactly: a count over its
  covering index is the cheap part of a page at the sizes one machine holds.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, DateTime, and_, func, literal, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.expression import ClauseElement, Executable

from .domain.errors import ValidationFailed
from .domain.lifecycle import Priority
from .extensions import db
from .models import Case

COUNT_EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class Order:
    """An ordering of the list: sort keys, each ascending or descending, ending in the id (so
    that every row has its own place and a keyset cursor is exact)."""

    keys: tuple[tuple[ColumnElement[Any], bool], ...]  # (expression, descending)

    def clauses(self) -> list[ColumnElement[Any]]:
        return [key.desc() if descending else key for key, descending in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows that come after a row with these sort key values."""
        exprs = [key for key, _ in self.keys]
        bound = [literal(v, key.type) for v, key in zip(values, exprs, strict=True)]
        directions = {descending for _, descending in self.keys}
        if len(directions) == 1:  # one row-value comparison: an index range
            return (tuple_(*exprs) < tuple_(*bound)) if directions == {True} else \
                (tuple_(*exprs) > tuple_(*bound))
        alternatives = []
        for i, (key, descending) in enumerate(self.keys):
            beyond = key < bound[i] if descending else key > bound[i]
            alternatives.append(and_(*[exprs[j] == bound[j] for j in range(i)], beyond))
        return or_(*alternatives)


# Cases without a deadline (即时答复) come last whichever way deadlines are sorted; `due_key` is
# `due_at` for the others, and the same far-off instant for them.
LIST_ORDER: dict[str, Order] = {
    "-received": Order(((Case.received_at, True), (Case.id, True))),
    "received": Order(((Case.received_at, False), (Case.id, False))),
    "due": Order(((Case.due_key, False), (Case.id, False))),
    "-due": Order(((Case.due_at.is_(None), False), (Case.due_key, True), (Case.id, True))),
}
# Work queues (the operators' and the department's desk) take 紧急件 first, then the ordering.
NOT_URGENT = Case.priority != Priority.URGENT


def queue_order(sort: str) -> Order:
    """A work queue's ordering: urgent cases first, then `sort`."""
    return Order(((NOT_URGENT, False), *LIST_ORDER[sort].keys))


@dataclass
class CasePage:
    rows: list[Case]
    total: int
    total_exact: bool
    next_cursor: str | None


def case_page(conditions: list[ColumnElement[bool]], order: Order, *, sort: str,
              page: int = 1, per_page: int = 20, cursor: str | None = None) -> CasePage:
    """One page of the cases matching `conditions` in `order` (named `sort` in cursors):
    page `page`, or the page after `cursor`; with the total and the next page's cursor."""
    # A page's lines and categories joined in (small tables), not one lazy load per row.
    query = select(Case, *[key for key, _ in order.keys]).where(*conditions) \
        .options(joinedload(Case.line), joinedload(Case.category))
    if cursor is not None:
        query = query.where(order.after(decode_cursor(cursor, sort, order)))
    else:
        query = query.offset((page - 1) * per_page)
    found = db.session.execute(query.order_by(*order.clauses()).limit(per_page + 1)).all()
    more = len(found) > per_page
    found = found[:per_page]
    total, exact = count_cases(conditions)
    next_cursor = encode_cursor(sort, found[-1][1:]) if more else None
    return CasePage([row[0] for row in found], total, exact, next_cursor)


def count_cases(conditions: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """How many cases match: (count, exact). Exact up to `COUNT_EXACT_UP_TO`; past it, on
    PostgreSQL, the planner's estimate (never below the exact part)."""
    if db.engine.dialect.name != "postgresql":
        return db.session.scalar(select(func.count()).select_from(Case).where(*conditions)), True
    capped = select(Case.id).where(*conditions).limit(COUNT_EXACT_UP_TO + 1).subquery()
    n = db.session.scalar(select(func.count()).select_from(capped))
    if n <= COUNT_EXACT_UP_TO:
        return n, True
    plan = db.session.execute(Explain(select(Case.id).where(*conditions))).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return max(estimate, COUNT_EXACT_UP_TO + 1), False


class Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON)` of a statement, its parameters bound as usual (PostgreSQL)."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


# --- cursors -----------------------------------------------------------------------------------

def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    """The place after a row, as URL-safe text: the ordering's name and the row's sort keys."""
    out: list[Any] = [sort]
    for v in values:
        out.append({"t": v.astimezone(dt.UTC).isoformat()} if isinstance(v, dt.datetime) else v)
    raw = json.dumps(out, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, order: Order) -> list[Any]:
    """The sort keys a cursor holds, checked against the ordering it must belong to."""
    def refuse(why: str) -> ValidationFailed:
        return ValidationFailed(f"cursor: {why}", {"cursor": [why]})

    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refuse("Not a cursor this list gave out.") from None
    if not isinstance(decoded, list) or len(decoded) != len(order.keys) + 1:
        raise refuse("Not a cursor this list gave out.")
    if decoded[0] != sort:
        raise refuse(f"This cursor belongs to sort={decoded[0]!s:.20}; ask with that sort.")
    values = []
    for value, (key, _) in zip(decoded[1:], order.keys, strict=True):
        kind = getattr(key.type, "impl", key.type)
        if isinstance(kind, DateTime):
            try:
                value = dt.datetime.fromisoformat(value["t"])
            except (TypeError, KeyError, ValueError):
                raise refuse("Not a cursor this list gave out.") from None
            if value.tzinfo is None:
                raise refuse("Not a cursor this list gave out.")
        elif isinstance(kind, Boolean):
            if value not in (True, False, 0, 1):
                raise refuse("Not a cursor this list gave out.")
            value = bool(value)
        elif type(value) is not int or not 0 <= value < 2**63:
            raise refuse("Not a cursor this list gave out.")
        values.append(value)
    return values
