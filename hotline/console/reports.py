"""The reports page (统计报表, /console/reports): a period picker (week, month, quarter, year, or
from–to) and the filters of `GET /api/v1/stats/summary`, the summary's tables and its charts
(SVG, drawn by `hotline.reports.charts`), the bulletins written with their HTML and XLSX, and
the case ledger (台账) of the same period and filters as CSV or XLSX.

Everything is the API's: the arguments are loaded by its `StatsQuerySchema`, the scope is
`report_scope` (a handler sees their own department's figures only, whatever they ask for), the
charts, the ledger and the bulletins are the API's responses for the signed-in person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from ..api.stats import (
    BULLETIN_WRITERS,
    LedgerQuerySchema,
    StatsQuerySchema,
    bulletin_list,
    bulletin_response,
    chart_response,
    ledger_response,
    report_scope,
)
from ..domain.deadlines import local_date
from ..domain.errors import DomainError, Forbidden, NotFound
from ..domain.lifecycle import Role
from ..domain.names import CHANNEL_NAMES, KIND_NAMES
from ..extensions import db
from ..models import Category, Department, Line
from ..models.types import utcnow
from ..reports import charts
from ..reports.models import ALL_LINES, Bulletin
from ..reports.periods import month_of, parse_period, quarter_of, week_of
from ..reports.scope import FILTER_KEYS, Scope
from ..reports.summary import RANK_KEYS, build_summary
from . import bp

RANK_NAMES = {"points": "积分", "on_time_rate": "按期答复率", "satisfaction_rate": "满意率",
              "overdue_now": "超期未答复", "response_rate": "回应率",
              "resolution_rate": "办结率", "assigned": "交办量"}
KIND_TITLES = {"week": "周", "month": "月", "quarter": "季度", "year": "年", "range": "自定义"}
BULLETIN_KINDS = {"week": "周调度", "month": "月通报", "quarter": "季点评", "year": "年报",
                  "range": "专题"}
ERROR_TEXT = {"period": "期间不正确。", "from": "起始日期不正确。", "to": "截止日期不正确。",
              "line": "没有这条线路。", "region": "区划须为 6、9 或 12 位代码。",
              "channel": "渠道不正确。", "kind": "件别不正确。", "rank_by": "排序方式不正确。"}


def period_choices(today: dt.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker's options: recent weeks, months, quarters and years, newest first."""
    weeks, months, quarters = [], [], []
    day = today
    for _ in range(8):
        p = week_of(day)
        weeks.append((p.label, p.title))
        day = p.start - dt.timedelta(days=1)
    day = today
    for _ in range(12):
        p = month_of(day)
        months.append((p.label, p.title))
        day = p.start - dt.timedelta(days=1)
    day = today
    for _ in range(4):
        p = quarter_of(day)
        quarters.append((p.label, p.title))
        day = p.start - dt.timedelta(days=1)
    years = [(str(y), f"{y}年") for y in range(today.year, today.year - 3, -1)]
    return [("周", weeks), ("月", months), ("季度", quarters), ("年", years)]


def _raw_args() -> dict[str, str]:
    raw = {k: v.strip() for k, v in request.args.items() if v.strip() and k != "page"}
    if raw.get("from") or raw.get("to"):
        raw.pop("period", None)  # dates typed in win over the picker's period
    return raw


def _load(raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    try:
        return StatsQuerySchema().load(raw), {}
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"period": ["?"]}
        return StatsQuerySchema().load({}), {k: v for k, v in errors.items()}


def _scope_of(raw: dict[str, str]) -> tuple[Scope, dict[str, Any], dict[str, list[str]]]:
    args, errors = _load(raw)
    try:
        scope = report_scope(args, g.actor)
    except DomainError as exc:
        errors = errors | (exc.fields or {"period": [exc.message]})
        args = StatsQuerySchema().load({})
        scope = report_scope(args, g.actor)
    return scope, args, errors


def ledger_args(scope: Scope) -> dict[str, str]:
    """The case list's arguments for the cases a report covers: received in its period, and its
    filters (the ledger is the case list's export)."""
    return {"received_from": scope.period.start.isoformat(),
            "received_to": scope.period.end.isoformat(),
            **{k: v for k, v in scope.filters.items() if k in FILTER_KEYS}}


@bp.get("/reports")
def reports():
    raw = _raw_args()
    scope, args, errors = _scope_of(raw)
    handler = g.actor.role == Role.HANDLER
    # The phone figures are the centre's, not a department's: not on a handler's page.
    summary = build_summary(scope, rank_by=args["rank_by"],
                            sections=("hot",) if handler else ("hot", "phone"))
    query = {k: v for k, v in raw.items() if k not in errors}
    today = local_date(utcnow())
    lines = db.session.scalars(select(Line).order_by(Line.id)).all()
    departments = db.session.scalars(select(Department).order_by(Department.code)).all()
    categories = db.session.scalars(select(Category).order_by(Category.id)).all()
    bulletins = db.session.scalars(bulletin_list().limit(20)).all()
    return render_template(
        "console/reports.html", s=summary, scope=scope, raw=raw, query=query,
        errors={k: ERROR_TEXT.get(k, "填写不正确。") for k in errors}, choices=period_choices(today),
        lines=lines, departments=departments, categories=categories, charts=charts.CHARTS,
        channel_names=CHANNEL_NAMES, kind_names=KIND_NAMES, rank_names=RANK_NAMES,
        rank_keys=RANK_KEYS, bulletins=bulletins, bulletin_kinds=BULLETIN_KINDS,
        all_lines=ALL_LINES, line_names={line.code: line.name for line in lines},
        handler=handler, ledger=ledger_args(scope), kind_titles=KIND_TITLES,
        may_write_bulletin=may_write_bulletin(),
    ), 400 if errors else 200


@bp.get("/reports/charts/<name>.svg")
def reports_chart(name: str):
    """A chart of the page's report, as the API draws it."""
    if name not in charts.CHARTS:
        raise NotFound(f"no chart {name}")
    scope, args, _ = _scope_of(_raw_args())
    return chart_response(name, scope, args["rank_by"], "svg")


@bp.get("/reports/ledger.<any(csv, xlsx):fmt>")
def reports_ledger(fmt: str):
    """The ledger of the page's period and filters (the case list's export, scoped alike)."""
    raw = {k: v for k, v in request.args.items() if v.strip()}
    try:
        args = LedgerQuerySchema().load(raw)
    except ValidationError as exc:
        from ..domain.errors import ValidationFailed

        raise ValidationFailed("导出条件不正确，请回到统计报表页重新选择。",
                               exc.messages if isinstance(exc.messages, dict) else {}) from None
    return ledger_response(args, g.actor, fmt)


def may_write_bulletin() -> bool:
    return g.actor.role == Role.ADMIN or g.actor.role in BULLETIN_WRITERS


@bp.post("/reports/bulletins")
def reports_write_bulletin():
    """Write (or rewrite) now the bulletin of the page's period (all lines, or its line)."""
    from ..reports.bulletin import write_bulletin

    if not may_write_bulletin():
        raise Forbidden("通报由督办人员生成。")
    back = request.form.get("back") or ""
    back = back if back.startswith("/console/reports") else url_for("console.reports")
    try:
        period = parse_period((request.form.get("period") or "").strip()[:40])
        line = (request.form.get("line") or "").strip()[:32] or None
        bulletin = write_bulletin(period, line, created_by=g.user.name)
    except DomainError:
        db.session.rollback()
        flash("未能生成通报：期间或线路不正确。", "error")
        return redirect(back)
    flash(f"已生成《{bulletin.title}》。", "ok")
    return redirect(back)


@bp.get("/reports/bulletins/<int:bulletin_id>.<any(html, xlsx):fmt>")
def reports_bulletin(bulletin_id: int, fmt: str):
    """A bulletin in the signed-in person's edition (a handler's: their department's)."""
    b = db.session.get(Bulletin, bulletin_id)
    if b is None:
        raise NotFound(f"no bulletin {bulletin_id}")
    return bulletin_response(b, g.actor, fmt)
