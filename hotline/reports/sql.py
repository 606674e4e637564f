"""SQL expressions the reports and the sweeps need that SQLite and PostgreSQL spell differently.

Instants are stored as naive UTC (see `hotline.models.types.UTCDateTime`). `local_day` gives the
province's calendar date of such a column inside the database, so that grouping by day and
comparing a reply with its due date need no rows in Python; `end_of_local_day` the instant a
deadline day ends (`deadlines.end_of_day`). PostgreSQL converts with its time zone database and
the zone's name; SQLite has none and adds the zone's offset, read from the same zone
(`deadlines.PROVINCE_TZ`) and checked to be the same all year — Asia/Shanghai has kept UTC+8
without daylight saving since 1991.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Date, DateTime, Float, String

from ..domain.deadlines import PROVINCE_TZ


def _fixed_offset(zone: dt.tzinfo) -> dt.timedelta:
    """The zone's one offset from UTC; a zone with daylight saving cannot be written as one."""
    offsets = {zone.utcoffset(dt.datetime(year, month, 15)) for year in range(1992, 2100, 9)
               for month in (1, 4, 7, 10)}
    if len(offsets) != 1:
        raise RuntimeError(f"{zone} changes its offset over the year; SQLite cannot follow it")
    return offsets.pop()


OFFSET = _fixed_offset(PROVINCE_TZ)
SQLITE_OFFSET = f"{OFFSET.total_seconds():+.0f} seconds"
# Local midnight, in UTC, as a time of day (16:00:00 for UTC+8).
SQLITE_MIDNIGHT_UTC = (dt.datetime(2000, 1, 1) - OFFSET).strftime("%H:%M:%S")
# From a local date (as midnight UTC) to 23:59:59 local of that day, in UTC.
SQLITE_END_OF_DAY = f"{(dt.timedelta(hours=23, minutes=59, seconds=59) - OFFSET).total_seconds():+.0f} seconds"


def _spelled(function: type[FunctionElement], **dialects: Callable[..., str]) -> None:
    """Compile `function` on each dialect by its spelling there: a function of the function's
    arguments, each already compiled to SQL text."""
    for dialect, spelling in dialects.items():
        compiles(function, dialect)(_compiler(spelling))


def _compiler(spelling: Callable[..., str]) -> Callable[..., str]:
    def compile_(element: FunctionElement, compiler: Any, **kw: Any) -> str:
        return spelling(*(compiler.process(arg, **kw) for arg in element.clauses))

    return compile_


def _local(instant: str) -> str:
    """PostgreSQL: a naive UTC instant as the province's local time."""
    return f"timezone('{PROVINCE_TZ.key}', timezone('UTC', {instant}))"


class local_day(FunctionElement):
    """The local (Asia/Shanghai) date of a UTC instant column."""

    type = Date()
    name = "local_day"
    inherit_cache = True


_spelled(local_day,
         sqlite=lambda instant: f"date({instant}, '{SQLITE_OFFSET}')",
         postgresql=lambda instant: f"CAST({_local(instant)} AS DATE)")


class seconds_between(FunctionElement):
    """Seconds from the first instant column to the second (NULL if either is NULL)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


_spelled(seconds_between,
         sqlite=lambda start, end: f"((julianday({end}) - julianday({start})) * 86400.0)",
         postgresql=lambda start, end: f"EXTRACT(EPOCH FROM ({end} - {start}))")


class within_day(FunctionElement):
    """True when a UTC instant column falls on or before a local date column (the instant's
    local date <= the date): "replied by the end of due_date"."""

    type = Boolean()
    name = "within_day"
    inherit_cache = True


_spelled(within_day,
         # Local midnight after day D is D 16:00 UTC; as text, the stored instant sorts before
         # 'D 16:00:00' exactly when it is earlier. A string comparison, no date() per row.
         sqlite=lambda instant, day: f"({instant} < {day} || ' {SQLITE_MIDNIGHT_UTC}')",
         postgresql=lambda instant, day: f"(CAST({_local(instant)} AS DATE) <= {day})")


class end_of_local_day(FunctionElement):
    """23:59:59 local (Asia/Shanghai) of a date column, as the naive UTC instant columns hold."""

    type = DateTime()
    name = "end_of_local_day"
    inherit_cache = True


_spelled(end_of_local_day,
         sqlite=lambda day: f"datetime({day}, '{SQLITE_END_OF_DAY}')",
         postgresql=lambda day: (f"timezone('UTC', timezone('{PROVINCE_TZ.key}', CAST({day} "
                                 "AS TIMESTAMP) + INTERVAL '23:59:59'))"))


class local_text(FunctionElement):
    """A UTC instant column as local (Asia/Shanghai) text, 'YYYY-MM-DD HH:MM:SS' (NULL stays
    NULL): what an export writes, made by the database instead of a datetime per cell."""

    type = String()
    name = "local_text"
    inherit_cache = True


_spelled(local_text,
         sqlite=lambda instant: f"strftime('%Y-%m-%d %H:%M:%S', {instant}, '{SQLITE_OFFSET}')",
         postgresql=lambda instant: f"to_char({_local(instant)}, 'YYYY-MM-DD HH24:MI:SS')")
