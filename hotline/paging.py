"""Pages of a list: the one way a list query is cut into numbered pages with its total.

Every staff list (cases' side lists, the audit list, the account log, calls, bulletins, the
supervisor's lists) pages the same way: `page` counts from 1, `per_page` rows each, the query
carries its own order (newest first, or by due day), and the total counts every matching row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from .extensions import db


def count(query: Select) -> int:
    """How many rows the query matches, whatever its order."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def page_of(query: Select, page: int, per_page: int) -> tuple[list[Any], int]:
    """One page of the query's rows (first column), and how many rows match in all."""
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), count(query)


def log_page(log: type, page: int, per_page: int, **equal: Any) -> tuple[list[Any], int]:
    """One page of a log (a table with `at` and `id`: the audit list, the account log), newest
    first, of the entries whose columns equal the values given (a filter left empty filters
    nothing), and how many match in all."""
    query = select(log).where(*(getattr(log, column) == value
                                for column, value in equal.items() if value))
    return page_of(query.order_by(log.at.desc(), log.id.desc()), page, per_page)
