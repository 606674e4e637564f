"""Reports in the staff API: `/stats/...` figures and charts, the case ledger export and the
bulletins. The figures and their definitions are those of `hotline.reports.summary`.

Every report takes a period — `period=2026-10` (or `2026-W44`, `2026-Q4`, `2026`), or
`from`/`to` local dates (both included; `from` alone runs to today, `to` alone starts on the
1st of its month; neither: this month so far) — and the case list's filters `line`, `channel`,
`topic`, `category`, `region`, `department`, `kind`. Handlers get their own department's
figures only — in every report, chart, export and bulletin (the rule is
`hotline.reports.scope`): a bulletin, written for all departments, is shown to a handler as
their department's edition. Texts of cases quoted in a report are masked as for publication.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import Response, g, jsonify, stream_with_context
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import Select, select

from .. import paging
from ..domain.deadlines import local_date
from ..domain.errors import NotFound, ValidationFailed
from ..domain.lifecycle import STAFF, Actor, Role
from ..extensions import db
from ..models.types import utcnow
from ..reports import charts, ledger
from ..reports.models import ALL_LINES, Bulletin
from ..reports.periods import PERIOD_HELP, Period, date_range, parse_period
from ..reports.scope import Scope
from ..reports.summary import RANK_KEYS, build_summary, report_for
from . import api
from .auth import login_required
from .schemas import (
    CHANNELS,
    MAX_PAGE,
    REGION,
    CaseListQuerySchema,
    Day,
    StrictSchema,
    _text,
)
from .util import json_body, query_args

#: Who writes (or rewrites) a bulletin on demand (admins may do anything).
BULLETIN_WRITERS = (Role.SUPERVISOR,)
MAX_DAYS = 366 * 5 + 1


class StatsQuerySchema(StrictSchema):
    period = _text(40)
    from_ = Day(data_key="from")
    to = Day()
    line = _text(32)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    topic = _text(64)
    category = _text(32)
    region = fields.String(validate=REGION)
    department = _text(32)
    kind = fields.String(validate=validate.OneOf(["handle", "inform", "instant"]))
    rank_by = fields.String(load_default="points", validate=validate.OneOf(RANK_KEYS))

    @validates_schema
    def one_way_to_say_the_period(self, data: dict, **kwargs: Any) -> None:
        if "period" in data and ("from_" in data or "to" in data):
            raise ValidationError({"period": ["Give 'period' or 'from'/'to', not both."]})


class LedgerQuerySchema(CaseListQuerySchema):
    """The case list's filters, without paging: the ledger is every matching case, in the
    order received."""

    class Meta:
        exclude = ("page", "per_page", "sort", "cursor")


class BulletinCreateSchema(StrictSchema):
    period = _text(40, required=True)
    line = _text(32, allow_none=True)


def report_period(args: dict[str, Any]) -> Period:
    """The period of a report's arguments (loaded by `StatsQuerySchema`): `period`, or
    `from`/`to` (`from` alone runs to today, `to` alone starts on the 1st of its month;
    neither: this month so far), at most five years."""
    if "period" in args:
        return parse_period(args["period"])
    today = local_date(utcnow())
    end = args.get("to") or today
    start = args.get("from_") or end.replace(day=1)
    period = date_range(start, end)
    if period.days > MAX_DAYS:
        raise ValidationFailed("a report covers at most five years",
                               {"from": [f"At most {MAX_DAYS} days before 'to'."]})
    return period


def report_scope(args: dict[str, Any], actor: Actor) -> Scope:
    """What a report of these arguments covers, as `actor` may see it (a handler: their own
    department's cases)."""
    if args.get("line"):
        from ..services import find_line

        find_line(args["line"])  # an unknown line is a mistake to report, not an empty report
    return Scope.of(report_period(args), args, actor)


def _scope() -> tuple[Scope, dict[str, Any]]:
    args = query_args(StatsQuerySchema())
    return report_scope(args, g.actor), args


def chart_response(name: str, scope: Scope, rank_by: str, fmt: str) -> Response:
    """Chart `name` of a scope's summary (SVG or PNG)."""
    if name not in charts.CHARTS:
        raise NotFound(f"no chart '{name}'; charts are: {', '.join(charts.CHARTS)}")
    summary = build_summary(scope, rank_by=rank_by, sections=())
    resp = Response(charts.render(name, summary, fmt), mimetype=charts.FORMATS[fmt])
    resp.headers["Cache-Control"] = "private, max-age=60"
    return resp


def ledger_response(args: dict[str, Any], actor: Actor, fmt: str) -> Response:
    """The case ledger (台账) of the case list's filters, streamed as CSV or XLSX: the cases
    `actor` may see (the case list's conditions)."""
    from ..reports.scope import case_list_conditions, duplicate_seen

    now = utcnow()
    conditions = case_list_conditions(args, actor, now)
    mimetype = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
    filename = f"ledger-{local_date(now):%Y%m%d}.{fmt}"
    chinese = quote(f"案件台账-{local_date(now):%Y%m%d}.{fmt}")
    body = stream_with_context(ledger.export(conditions, fmt, now, duplicate_seen(actor)))
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{filename}\"; filename*=UTF-8''{chinese}")
    resp.headers["Cache-Control"] = "no-store"  # personal data: no copies in caches
    resp.headers["X-Accel-Buffering"] = "no"  # let a proxy pass the stream on as it comes
    return resp


def bulletin_response(b: Bulletin, actor: Actor, fmt: str) -> Response:
    """A bulletin as its HTML page or XLSX workbook, in `actor`'s edition (a handler's: their
    department's)."""
    from ..reports.bulletin import edition_for

    edition = edition_for(b, actor)
    if fmt == "html":
        resp = Response(edition.html(), mimetype="text/html")
        # The page is self-contained: no scripts, styles inline, charts as data: images.
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    else:
        resp = Response(edition.xlsx(), mimetype="application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet")
        resp.headers["Content-Disposition"] = (
            f'attachment; filename="bulletin-{b.period}-{b.scope}.xlsx"')
    return resp


@api.get("/stats/summary")
@login_required(*STAFF)
def stats_summary():
    scope, args = _scope()
    return jsonify(build_summary(scope, rank_by=args["rank_by"]))


@api.get("/stats/departments")
@login_required(*STAFF)
def stats_departments():
    scope, args = _scope()
    report = report_for(scope)
    return jsonify({"period": scope.period.label, "filters": scope.filters,
                    "rank_by": args["rank_by"], "departments": report.ranking(args["rank_by"])})


@api.get("/stats/hot")
@login_required(*STAFF)
def stats_hot():
    from ..reports.hot import hot_issues

    scope, _ = _scope()
    return jsonify({"period": scope.period.label, "filters": scope.filters,
                    **hot_issues(scope)})


@api.get("/stats/phone")
@login_required(*STAFF)
def stats_phone():
    from ..reports.phone import phone_figures

    scope, _ = _scope()
    return jsonify({"period": scope.period.label, "filters": {"line": scope.line} if scope.line
                    else {}, **phone_figures(scope)})


@api.get("/stats/charts/<name>.<any(svg,png):fmt>")
@login_required(*STAFF)
def stats_chart(name: str, fmt: str):
    if name not in charts.CHARTS:
        raise NotFound(f"no chart '{name}'; charts are: {', '.join(charts.CHARTS)}")
    scope, args = _scope()
    return chart_response(name, scope, args["rank_by"], fmt)


@api.get("/ledger.<any(csv,xlsx):fmt>")
@login_required(*STAFF)
def ledger_export(fmt: str):
    return ledger_response(query_args(LedgerQuerySchema()), g.actor, fmt)


# --- bulletins -------------------------------------------------------------------------------

def _bulletin_meta(b: Bulletin) -> dict[str, Any]:
    base = f"/api/v1/bulletins/{b.id}"
    return {"id": b.id, "kind": b.kind, "period": b.period,
            "line": None if b.scope == ALL_LINES else b.scope, "title": b.title,
            "from": b.starts_on.isoformat(), "to": b.ends_on.isoformat(),
            "as_of": _local_iso(b.as_of), "created_at": _local_iso(b.created_at),
            "created_by": b.created_by, "html_url": f"{base}.html", "xlsx_url": f"{base}.xlsx"}


def _local_iso(instant: dt.datetime) -> str:
    from ..domain.deadlines import PROVINCE_TZ

    return instant.astimezone(PROVINCE_TZ).isoformat()


def _bulletin(bulletin_id: int) -> Bulletin:
    b = db.session.get(Bulletin, bulletin_id)
    if b is None:
        raise NotFound(f"no bulletin {bulletin_id}")
    return b


class BulletinListSchema(StrictSchema):
    kind = fields.String(validate=validate.OneOf(["week", "month", "quarter", "year", "range"]))
    line = _text(32)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def bulletin_list(kind: str | None = None, line: str | None = None) -> Select:
    """Bulletins written, newest period first."""
    query = select(Bulletin)
    if kind:
        query = query.where(Bulletin.kind == kind)
    if line:
        query = query.where(Bulletin.scope == line)
    return query.order_by(Bulletin.starts_on.desc(), Bulletin.kind, Bulletin.scope)


@api.get("/bulletins")
@login_required(*STAFF)
def list_bulletins():
    args = query_args(BulletinListSchema())
    query = bulletin_list(args.get("kind"), args.get("line"))
    page, per_page = args["page"], args["per_page"]
    rows, total = paging.page_of(query, page, per_page)
    return jsonify({"items": [_bulletin_meta(b) for b in rows], "page": page,
                    "per_page": per_page, "total": total})


@api.post("/bulletins")
@login_required(*BULLETIN_WRITERS)
def create_bulletin():
    from ..reports.bulletin import write_bulletin

    body = json_body(BulletinCreateSchema())
    period = parse_period(body["period"])
    existed = db.session.scalar(select(Bulletin.id).where(
        Bulletin.period == period.label, Bulletin.scope == (body.get("line") or ALL_LINES)))
    b = write_bulletin(period, body.get("line"), created_by=g.user.name)
    resp = jsonify(_bulletin_meta(b))
    resp.status_code = 200 if existed else 201
    resp.headers["Location"] = f"/api/v1/bulletins/{b.id}"
    return resp


@api.get("/bulletins/<int:bulletin_id>")
@login_required(*STAFF)
def get_bulletin(bulletin_id: int):
    from ..reports.bulletin import edition_for

    b = _bulletin(bulletin_id)
    edition = edition_for(b, g.actor)
    return jsonify({**_bulletin_meta(b), "title": edition.title,
                    "as_of": _local_iso(edition.as_of), "summary": edition.summary})


@api.get("/bulletins/<int:bulletin_id>.<any(html,xlsx):fmt>")
@login_required(*STAFF)
def bulletin_file(bulletin_id: int, fmt: str):
    return bulletin_response(_bulletin(bulletin_id), g.actor, fmt)


# --- the API document ------------------------------------------------------------------------

_FILTERS = ("Period: period=2026-10 | 2026-W44 | 2026-Q4 | 2026, or from/to (local dates, "
            "both included). Filters: line, channel, topic, category, region, department, "
            "kind. " + PERIOD_HELP)
_DEFINITIONS = (
    "Cases received in the period (local midnight, Asia/Shanghai), as they stand now. "
    "by_category etc.: {code, name, count, percent}, percents with two decimals summing to "
    "100.00 (largest remainder). response_rate (回应率) = cases signed for or answered on the "
    "spot / received; on_time_rate = replied or answered by 23:59:59 local on due_date "
    "(extensions included; a reopened case with its new reply and deadline) / replied or "
    "answered; resolution_rate = closed / received; satisfaction_rate = (满意+基本满意) / "
    "answered surveys, with surveys_answered; working_days_to_reply: working days after the "
    "day the round started to the day of the reply (average, nearest-rank p90); overdue_now: "
    "not replied and past due_at. Rates are {value (percent, 2 decimals, null for 0/0), "
    "numerator, denominator}.")
# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/stats/summary", "get", "Report of a period: volume by category/topic/channel/kind/region "
     "and per day/week/month, handling, outcome rates, departments ranked with points, hot "
     "issues, phone figures. " + _DEFINITIONS + " " + _FILTERS + " rank_by: "
     + ", ".join(RANK_KEYS), StatsQuerySchema, None, ["reports"]),
    ("/stats/departments", "get", "Departments ranked (points, then on-time rate, "
     "satisfaction, overdue). " + _FILTERS, StatsQuerySchema, None, ["reports"]),
    ("/stats/hot", "get", "Hot issues: topics and terms rising against the previous period, "
     "clusters of similar cases (并单 candidates). " + _FILTERS, StatsQuerySchema, None, ["reports"]),
    ("/stats/phone", "get", "Phone figures: calls offered, answered within 15 s, abandoned, "
     "call-backs. " + _FILTERS, StatsQuerySchema, None, ["reports"]),
    ("/stats/charts/{name}.svg", "get", "A chart as SVG: " + ", ".join(charts.CHARTS)
     + ". Same query as /stats/summary.", StatsQuerySchema, None, ["reports"]),
    ("/stats/charts/{name}.png", "get", "A chart as PNG: " + ", ".join(charts.CHARTS)
     + ". Same query as /stats/summary.", StatsQuerySchema, None, ["reports"]),
    ("/ledger.csv", "get", ("The case ledger (台账) as CSV (UTF-8 with BOM), streamed; the "
     "filters of GET /cases without paging"), LedgerQuerySchema, None, ["reports"]),
    ("/ledger.xlsx", "get", ("The case ledger (台账) as XLSX, streamed; the filters of GET "
     "/cases without paging"), LedgerQuerySchema, None, ["reports"]),
    ("/bulletins", "get", ("Bulletins written (weekly, monthly, quarterly), newest first; "
     "kind, line, page, per_page"), BulletinListSchema, None, ["reports"]),
    ("/bulletins", "post", "Write (or rewrite) the bulletin of a period now (supervisor)",
     BulletinCreateSchema, None, ["reports"], (200, 201)),
    ("/bulletins/{bulletin_id}", "get", ("A bulletin's details and figures (a handler gets their "
     "department's edition: the same report over their department's cases, as of now)"), None,
     None, ["reports"]),
    ("/bulletins/{bulletin_id}.html", "get", "A bulletin as an HTML page with its charts", None, None,
     ["reports"]),
    ("/bulletins/{bulletin_id}.xlsx", "get", "A bulletin's tables as XLSX", None, None, ["reports"]),
]
