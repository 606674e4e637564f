"""Tables of the report figures kept current with every step (see `hotline.reports.rollup`):
each case counted once in the cell of its received day, line, category and department, with
the breakdowns the summary needs beside it. A summary over a period reads these rows, not the
cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# What a case adds to its cell (see `hotline.reports.rollup.contribution` for each one).
CELL_COUNTERS = ("cases", "accepted", "accepted_on_time", "replied", "replied_on_time",
                 "closed", "supervised", "duplicates", "dispatched", "dispatch_steps",
                 "return_steps", "extension_steps", "reopened", "instruct_steps", "responded",
                 "decided", "approved", "extension_days")
# The key of a cell: no NULLs (a key with NULL would never conflict, so never be added to).
NO_CATEGORY_ID = 0
NO_DEPARTMENT_CODE = ""


class ReportCell(db.Model):
    """The cases received on one local day for one line, category and department (the one
    they are with now), with their facts summed."""

    __tablename__ = "report_cells"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    line_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)
    replied_on_time: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    supervised: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    dispatch_steps: Mapped[int] = mapped_column(Integer, default=0)
    return_steps: Mapped[int] = mapped_column(Integer, default=0)
    extension_steps: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    instruct_steps: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    decided: Mapped[int] = mapped_column(Integer, default=0)
    approved: Mapped[int] = mapped_column(Integer, default=0)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)


class ReportCount(db.Model):
    """How many of the cases received on one local day for one line and department (or their
    surveys, replies, returns) have one value of a breakdown: channel, kind, topic, prefecture,
    survey rating, reply days, return reason. Without the category, which would multiply the
    rows a month holds by the number of categories (a scope filtered by category reads the
    cases)."""

    __tablename__ = "report_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    line_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The value as JSON (None and "" stay apart); long ones (a return's reason) keyed by digest.
    value_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ReportRebuild(db.Model):
    """A row here says the figures tables do not yet hold every case (a database upgraded
    with cases in it, a bulk import that bypassed the session): the summary reads the cases
    until `hotline report-figures --rebuild` has run, which deletes the row."""

    __tablename__ = "report_rebuilds"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
