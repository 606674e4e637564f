"""The case ledger (台账) as CSV or XLSX, streamed row by row.

The rows come from one query with the case list's filters (`scope.case_list_conditions`), read
through a server-side cursor in batches of `BATCH` (`yield_per`: PostgreSQL streams the
results, SQLite steps its cursor), and leave as bytes as soon as a batch is written. Nothing
holds all the rows: memory stays flat for a million cases. Lines, categories and departments
are small tables, read once into dictionaries instead of joined into every row. One cursor,
not keyset pages: the ledger is one moment's picture of its cases (a case that changes status
mid-export is written as it stood), and a department's ledger has no index in its order (PG
sorts the department's rows once; keyset pages would sort what is left for every page).
Times, dates and 是/否 are made text by the database (`reports.sql.local_text`).

Cells that a spreadsheet would take for a formula (=, +, -, @ at the start) are written with
a leading apostrophe in CSV — a citizen's text must never run as a formula on a clerk's
machine (CSV injection); telephone numbers (shown as written in China, 13985012345, and a
foreign one as +1 415-555-2671) are never taken for one. In
XLSX every text is a string cell, which is never evaluated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, null, select

from ..domain import phones
from ..extensions import db
from ..models import Case, Category, Department, Line
from .scope import CHANNEL_NAMES, KIND_NAMES, STATUS_NAMES, UNANSWERED_STATUSES
from .sql import local_text, within_day
from .xlsxstream import stream_xlsx

BATCH = 1000
CSV_FLUSH_ROWS = 500

# (header, width in XLSX)
COLUMNS: list[tuple[str, float]] = [
    ("工单编号", 18), ("线路", 16), ("渠道", 6), ("诉求类别", 10), ("问题分类", 24),
    ("性质", 8), ("状态", 8), ("承办单位", 24), ("行政区划", 10), ("姓名", 8),
    ("联系电话", 15), ("企业名称", 22), ("诉求内容", 60), ("同意公开", 8), ("督办件", 6),
    ("受理时间", 19), ("签收时限", 11), ("答复时限", 11), ("延期(工作日)", 8),
    ("签收时间", 19), ("答复时间", 19), ("办结时间", 19), ("按期答复", 8), ("超期未答复", 8),
    ("答复内容", 60), ("重复件", 8),
]
HEADERS = [c[0] for c in COLUMNS]
# Text someone typed (a citizen, a handler, an admin naming a line or department): the cells a
# formula could hide in. The rest the system writes (numbers, dates, statuses, 是/否).
TYPED = ("工单编号", "线路", "诉求类别", "问题分类", "承办单位", "行政区划", "姓名", "联系电话",
         "企业名称", "诉求内容", "答复内容")

_FORMULA_START = "=+-@\t\r"
_PHONE_OR_NUMBER = re.compile(r"^[+-]?[0-9][0-9 \-]*$")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[str]:
    """是 / 否 as the database writes it."""
    return case((condition, literal("是")), else_=literal("否"))


def _query(conditions: list[ColumnElement[bool]], duplicate: ColumnElement[bool],
           now: dt.datetime):
    # Times, dates and yes/no are written as text by the database: a datetime object per cell,
    # converted to local time and formatted in Python, cost more than reading the rows.
    on_time = case((and_(Case.replied_at.is_not(None), Case.due_date.is_not(None)),
                    _flag(within_day(Case.replied_at, Case.due_date))), else_=null())
    overdue = _flag(and_(Case.status.in_([str(s) for s in UNANSWERED_STATUSES]),
                         Case.due_at.is_not(None), Case.due_at < now))
    return (select(Case.number, Case.line_id, Case.channel, Case.category_id, Case.topic1,
                   Case.topic2, Case.topic3, Case.kind, Case.status, Case.department_code,
                   Case.region, Case.citizen_name, Case.citizen_phone, Case.citizen_enterprise,
                   Case.content, _flag(Case.public_consent), _flag(Case.supervised),
                   local_text(Case.received_at), cast(Case.accept_due_date, String),
                   cast(Case.due_date, String), Case.extension_days,
                   local_text(Case.accepted_at), local_text(Case.replied_at),
                   local_text(Case.closed_at), on_time, overdue,
                   func.coalesce(Case.reply_text, Case.answer_text), _flag(duplicate))
            .where(*conditions).order_by(Case.received_at, Case.id)
            .execution_options(yield_per=BATCH))


def rows(conditions: list[ColumnElement[bool]], now: dt.datetime,
         duplicate: ColumnElement[bool] | None = None) -> Iterator[list[Any]]:
    """The ledger's rows (values in the order of `HEADERS`, as text), read in batches;
    `duplicate` says which cases show as 重复件 (`scope.duplicate_seen` for the reader; any by
    default)."""
    if duplicate is None:
        duplicate = Case.duplicate_of_id.is_not(None)
    lines = {li.id: li.name for li in db.session.scalars(select(Line))}
    categories = {c.id: c.name for c in db.session.scalars(select(Category))}
    departments = {d.code: d.name for d in db.session.scalars(select(Department))}
    # Core execution on the session's connection: the ORM's row loading adds nothing to plain
    # columns and costs a third of the time. Rows are unpacked as tuples (faster than names).
    result = db.session.connection().execute(_query(conditions, duplicate, now))
    for partition in result.partitions():
        for (number, line_id, channel, category_id, topic1, topic2, topic3, kind, status,
             department_code, region, citizen_name, citizen_phone, citizen_enterprise,
             content, public_consent, supervised, received_at, accept_due_date, due_date,
             extension_days, accepted_at, replied_at, closed_at, on_time, overdue, answer,
             is_duplicate) in partition:
            yield [
                number, lines.get(line_id), CHANNEL_NAMES.get(channel, channel),
                categories.get(category_id),
                "/".join(t for t in (topic1, topic2, topic3) if t) or None,
                KIND_NAMES.get(kind, kind), STATUS_NAMES.get(status, status),
                departments.get(department_code, department_code), region,
                citizen_name, phones.display(citizen_phone) if citizen_phone else None,
                citizen_enterprise, content, public_consent, supervised, received_at, accept_due_date, due_date,
                extension_days or 0, accepted_at, replied_at, closed_at, on_time, overdue,
                answer, is_duplicate,
            ]


def csv_safe(value: Any) -> str:
    """A value as CSV text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if value is True or value is False:
        return "是" if value else "否"
    text = value if type(value) is str else str(value)
    if text and text[0] in _FORMULA_START and not _PHONE_OR_NUMBER.match(text):
        return "'" + text
    return text


def stream_csv(data: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark, so that Excel opens the Chinese text correctly.
    Only the columns that hold text someone typed (`TYPED`) can start like a formula; the
    others are the system's own numbers, dates and words, written as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    typed = [HEADERS.index(h) for h in TYPED]
    for count, row in enumerate(data, 1):
        for i in typed:
            value = row[i]
            if value and type(value) is str and value[0] in _FORMULA_START:
                row[i] = csv_safe(value)
        writer.writerow(row)
        if count % CSV_FLUSH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def export(conditions: list[ColumnElement[bool]], fmt: str, now: dt.datetime,
           duplicate: ColumnElement[bool] | None = None) -> Iterator[bytes]:
    """The ledger of the cases matching `conditions` as CSV or XLSX bytes."""
    data = rows(conditions, now, duplicate)
    if fmt == "csv":
        return stream_csv(data)
    if fmt == "xlsx":
        return stream_xlsx(HEADERS, data, sheet_name="台账", widths=[c[1] for c in COLUMNS])
    raise ValueError(f"no ledger format {fmt!r}")
