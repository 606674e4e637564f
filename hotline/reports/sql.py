"""SQL expressions the reports need that SQLite and PostgreSQL spell differently.

Instants are stored as naive UTC (see `hotline.models.types.UTCDateTime`). `local_day` gives the
province's calendar date of such a column inside the database, so that grouping by day and
comparing a reply with its due date need no rows in Python. PostgreSQL converts with its time
zone database; SQLite has none and adds eight hours — exact for Asia/Shanghai, which has kept
UTC+8 without daylight saving since 1991.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Date, Float

from ..domain.deadlines import PROVINCE_TZ

SQLITE_OFFSET = "+8 hours"
SQLITE_MIDNIGHT_UTC = "16:00:00"  # local midnight, in UTC, for the same fixed offset


class local_day(FunctionElement):
    """The local (Asia/Shanghai) date of a UTC instant column."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"date({compiler.process(arg, **kw)}, '{SQLITE_OFFSET}')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    (arg,) = element.clauses
    return (f"CAST(timezone('{PROVINCE_TZ.key}', timezone('UTC', {compiler.process(arg, **kw)}))"
            " AS DATE)")


class seconds_between(FunctionElement):
    """Seconds from the first instant column to the second (NULL if either is NULL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


class within_day(FunctionElement):
    """True when a UTC instant column falls on or before a local date column (the instant's
    local date <= the date): "replied by the end of due_date"."""

    type = Boolean()
    name = "within_day"
    inherit_cache = True


@compiles(within_day, "sqlite")
def _within_day_sqlite(element: within_day, compiler: Any, **kw: Any) -> str:
    # Local midnight after day D is D 16:00 UTC; as text, the stored instant sorts before
    # 'D 16:00:00' exactly when it is earlier. A string comparison, no date() per row.
    instant, day = (compiler.process(c, **kw) for c in element.clauses)
    return f"({instant} < {day} || ' {SQLITE_MIDNIGHT_UTC}')"


@compiles(within_day, "postgresql")
def _within_day_postgresql(element: within_day, compiler: Any, **kw: Any) -> str:
    instant, day = element.clauses
    return compiler.process(local_day(instant) <= day, **kw)
