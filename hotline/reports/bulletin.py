"""Periodic bulletins (定期通报): the weekly scheduling note, the monthly bulletin and the
quarterly review (周调度、月通报、季点评) of a period, as an HTML page with charts and an XLSX
workbook with its tables, kept in the `bulletins` table.

A bulletin is a snapshot: its figures are those of `as_of`, and writing the same period and
scope again replaces it (the table keeps the latest edition). The page is self-contained —
charts are SVG images inside it — so it can be mailed, archived or printed as it is. The
workbook's category, daily and department tables carry native charts (`XLSX_CHARTS`), drawn
by the spreadsheet program with its own fonts.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain.deadlines import PROVINCE_TZ
from ..domain.lifecycle import Actor
from ..extensions import db
from ..models import Department, Line
from ..models.types import utcnow
from . import charts
from .models import ALL_LINES, Bulletin
from .periods import Period
from .scope import Scope
from .summary import build_summary, region_name

KIND_TITLES = {"week": "工作周调度", "month": "月度通报", "quarter": "季度点评",
               "year": "年度报告", "range": "办理情况分析"}
DEFAULT_ORG = "政民互动平台"
BULLETIN_CHARTS = ("volume", "categories", "departments")

_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]), trim_blocks=False)


def bulletin_title(period: Period, line: Line | None) -> str:
    org = line.name if line else current_app.config.get("HOTLINE_ORG_NAME", DEFAULT_ORG)
    return f"{org}{period.title}{KIND_TITLES[period.kind]}"


FILTER_NAMES = {"channel": "渠道", "topic": "问题分类", "category": "诉求类别", "region": "地区",
                "department": "承办单位", "kind": "性质"}


def _filter_value(key: str, value: str, lines: dict[str, str]) -> str:
    from .scope import CHANNEL_NAMES, KIND_NAMES

    if key == "channel":
        return CHANNEL_NAMES.get(value, value)
    if key == "kind":
        return KIND_NAMES.get(value, value)
    if key == "region":
        return region_name(value)
    return value


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _svg_image(svg: bytes, alt: str) -> Markup:
    data = base64.b64encode(svg).decode()
    return Markup(f'<img alt="{Markup.escape(alt)}" src="data:image/svg+xml;base64,{data}">')


def render_html(summary: dict[str, Any], title: str) -> str:
    """The bulletin page of a summary (computed with all sections)."""
    images = {name: _svg_image(charts.render(name, summary, "svg"), charts.CHARTS[name][0])
              for name in BULLETIN_CHARTS}
    lines = {li.code: li.name for li in db.session.scalars(select(Line))}
    channels = summary["by_channel"]
    regions = summary["by_region"]
    rows = [(channels[i] if i < len(channels) else None, regions[i] if i < len(regions) else None)
            for i in range(max(len(channels), len(regions)))]
    filters = "，".join(f"{FILTER_NAMES.get(k, k)}：{_filter_value(k, v, lines)}"
                       for k, v in summary["filters"].items() if k != "line")
    return _env.get_template("bulletin.html").render(
        title=title, s=summary, h=summary["handling"], o=summary["outcome"],
        hot=summary.get("hot") or {}, ph=summary.get("phone") or {"offered": 0,
                                                                   "callbacks": {"created": 0}},
        charts=images, pct=_pct, num=_num, region_name=region_name, line_names=lines,
        several_lines=len({c["line"] for c in summary["by_category"] if c["line"]}) > 1,
        channels_text="、".join(f"{c['name']} {c['count']} 件" for c in channels),
        channel_region_rows=rows, filters=filters,
        as_of=dt.datetime.fromisoformat(summary["as_of"]).astimezone(PROVINCE_TZ)
        .strftime("%Y-%m-%d %H:%M"),
    )


def render_xlsx(summary: dict[str, Any], title: str) -> bytes:
    """The bulletin's tables as a workbook, one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    def sheet(name: str, headers: list[str], rows: list[list[Any]],
              widths: list[int] | None = None) -> None:
        ws = wb.create_sheet(name)
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([subtitle])
        ws.append(headers)
        for cell in ws[3]:
            cell.font = bold
            cell.fill = head_fill
            cell.alignment = Alignment(horizontal="center")
        for row in rows:
            ws.append(row)
        for i, width in enumerate(widths or [], 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A4"

    subtitle = (f"统计期间 {summary['period']['from']} 至 {summary['period']['to']}，"
                f"数据截至 {summary['as_of'][:16].replace('T', ' ')}")
    h, o = summary["handling"], summary["outcome"]

    def rate_row(name: str, r: dict[str, Any]) -> list[Any]:
        return [name, r["value"], r["numerator"], r["denominator"]]

    sheet("概况", ["指标", "数值(%)", "分子", "分母"], [
        ["受理（件）", summary["total"], None, None],
        rate_row("回应率", o["response_rate"]), rate_row("按期答复率", o["on_time_rate"]),
        rate_row("办结率", o["resolution_rate"]), rate_row("满意率", o["satisfaction_rate"]),
        rate_row("按时签收率", h["accept_on_time_rate"]),
        ["转办（件）", h["dispatched"], None, None], ["退单（次）", h["returned"], None, None],
        ["延期批准（次）", h["extensions_approved"], None, None],
        ["超期未答复（件）", h["overdue_now"], None, None],
        ["平均答复用时（工作日）", h["working_days_to_reply"]["average"], None, None],
        ["90% 答复用时（工作日）", h["working_days_to_reply"]["p90"], None, None],
        ["重办（件）", o["reopened"], None, None],
    ], [26, 12, 10, 10])
    sheet("诉求类别", ["线路", "类别代码", "诉求类别", "件数", "占比(%)"],
          [[c["line"], c["code"], c["name"], c["count"], c["percent"]]
           for c in summary["by_category"]], [14, 18, 14, 10, 10])
    sheet("问题分类", ["问题分类", "件数", "占比(%)"],
          [[t["name"], t["count"], t["percent"]] for t in summary["by_topic"]], [24, 10, 10])
    sheet("渠道", ["渠道", "件数", "占比(%)"],
          [[c["name"], c["count"], c["percent"]] for c in summary["by_channel"]], [12, 10, 10])
    sheet("地区", ["区划代码", "地区", "件数", "占比(%)"],
          [[r["code"], r["name"], r["count"], r["percent"]] for r in summary["by_region"]],
          [12, 20, 10, 10])
    sheet("每日受理", ["日期", "件数"], [[d["date"], d["count"]] for d in summary["by_day"]],
          [12, 10])
    sheet("单位排名", ["名次", "单位代码", "承办单位", "转办", "回应率(%)", "按时签收", "退单",
                   "延期", "答复", "按期答复", "按期答复率(%)", "超期未答复", "办结",
                   "办结率(%)", "回访", "满意率(%)", "平均答复工作日", "积分", "扣分次数"],
          [[d["rank"], d["code"], d["name"], d["assigned"], d["response_rate"],
            d["accepted_on_time"], d["returned"], d["extensions"], d["replied"],
            d["replied_on_time"], d["on_time_rate"], d["overdue_now"], d["closed"],
            d["resolution_rate"], d["surveys_answered"], d["satisfaction_rate"],
            d["avg_working_days_to_reply"], d["points"], d["deductions"]]
           for d in summary["departments"]], [6, 14, 30])
    sheet("退单原因", ["原因", "次数"],
          [[r["reason"], r["count"]] for r in h["return_reasons"]], [40, 10])
    hot = summary.get("hot") or {}
    sheet("热点问题", ["问题分类", "本期", "上期", "增加", "增幅(%)"],
          [[t["topic"], t["count"], t["previous"], t["increase"], t["change"]]
           for t in hot.get("topics", [])], [30, 10, 10, 10, 10])
    sheet("相似诉求", ["件数", "来电人数", "问题分类", "区划", "工单编号", "诉求摘要"],
          [[c["size"], c["callers"], c["topic"], c["region"], "、".join(c["numbers"]),
            c["sample"]] for c in hot.get("clusters", [])], [8, 10, 24, 10, 40, 60])
    ph = summary.get("phone")
    if ph:
        sheet("话务", ["指标", "数值"], [
            ["来电", ph["offered"]], ["接通", ph["answered"]],
            ["15 秒内接通", ph["answered_within_15s"]],
            ["15 秒内接通率(%)", ph["answered_within_15s_rate"]["value"]],
            ["放弃", ph["abandoned"]], ["放弃率(%)", ph["abandon_rate"]["value"]],
            ["留言", ph["messages"]], ["回拨任务", ph["callbacks"]["created"]],
            ["回拨已完成", ph["callbacks"]["done"]],
        ], [20, 12])
    del wb["Sheet"]
    add_native_charts(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


#: Native charts of the workbook: sheet, title, label column, value column, horizontal bars.
#: Excel or WPS draws them with its own fonts, so their Chinese reads right wherever the
#: workbook is opened.
XLSX_CHARTS = (
    ("诉求类别", "诉求类别分布（件）", 3, 4, True),
    ("每日受理", "受理量趋势（件）", 1, 2, False),
    ("单位排名", "承办单位按期答复率（%）", 3, 11, True),
)


def add_native_charts(wb: Any) -> None:
    """Put the charts of `XLSX_CHARTS` beside their tables (rows from 4: title, subtitle and
    header above); a table without rows gets none."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.utils import get_column_letter

    for name, title, label_col, value_col, horizontal in XLSX_CHARTS:
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        last = min(ws.max_row, 3 + charts.MAX_BARS if horizontal else ws.max_row)
        if last < 4:
            continue
        chart = BarChart()
        chart.type = "bar" if horizontal else "col"
        chart.title = title
        chart.legend = None
        if horizontal:  # the first row at the top, as in the table
            chart.y_axis.scaling.orientation = "minMax"
            chart.x_axis.scaling.orientation = "maxMin"
        chart.add_data(Reference(ws, min_col=value_col, min_row=3, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=label_col, min_row=4, max_row=last))
        chart.width = 18
        chart.height = max(7.5, 0.6 * (last - 3) + 3) if horizontal else 7.5
        ws.add_chart(chart, f"{get_column_letter(max(ws.max_column, 5) + 2)}3")


@dataclass(frozen=True)
class Edition:
    """A bulletin as one reader gets it: the stored one, or a department's own edition."""

    title: str
    as_of: dt.datetime
    summary: dict[str, Any]
    stored: Bulletin | None = None

    def html(self) -> str:
        return self.stored.html if self.stored else render_html(self.summary, self.title)

    def xlsx(self) -> bytes:
        return self.stored.xlsx if self.stored else render_xlsx(self.summary, self.title)


def edition_for(bulletin: Bulletin, actor: Actor) -> Edition:
    """The bulletin as `actor` may read it.

    A bulletin is written for all departments: its ranking, hot-issue clusters and totals
    cover every department's cases. A handler sees only their own department's figures and
    cases (the rule of every report, `Scope.seen_by`), so a handler gets their department's
    edition of the same period and line: the same report computed over their department's
    cases as they stand now, titled with the department's name. Everyone else gets the
    bulletin as it was written.
    """
    period = Period(bulletin.kind, bulletin.period, bulletin.starts_on, bulletin.ends_on)
    line_code = None if bulletin.scope == ALL_LINES else bulletin.scope
    everyone = Scope(period, line=line_code)
    scope = everyone.seen_by(actor)
    if scope == everyone:
        return Edition(bulletin.title, bulletin.as_of, bulletin.summary, bulletin)
    now = utcnow()
    summary = build_summary(scope, now=now)
    department = db.session.scalar(select(Department).where(Department.code == scope.department))
    title = f"{bulletin.title}（{department.name if department else scope.department}）"
    summary["title"] = title
    return Edition(title, now, summary)


def write_bulletin(period: Period, line_code: str | None = None, *, created_by: str = "system",
                   now: dt.datetime | None = None) -> Bulletin:
    """Write (or rewrite) the bulletin of a period for all lines or one line, and commit."""
    now = now or utcnow()
    line = None
    if line_code:
        from ..services import find_line

        line = find_line(line_code)
    scope = Scope(period, line=line_code)
    summary = build_summary(scope, now=now)
    title = bulletin_title(period, line)
    summary["title"] = title
    html = render_html(summary, title)
    xlsx = render_xlsx(summary, title)
    key = line_code or ALL_LINES
    values = {"kind": period.kind, "title": title, "starts_on": period.start,
              "ends_on": period.end, "as_of": now, "created_at": utcnow(),
              "created_by": created_by, "summary": summary, "html": html, "xlsx": xlsx}
    for _attempt in range(2):
        bulletin = db.session.scalar(select(Bulletin).where(Bulletin.period == period.label,
                                                            Bulletin.scope == key))
        if bulletin is None:
            bulletin = Bulletin(period=period.label, scope=key, **values)
            db.session.add(bulletin)
        else:
            for name, value in values.items():
                setattr(bulletin, name, value)
        try:
            db.session.commit()
            return bulletin
        except IntegrityError:  # another worker wrote the same bulletin at the same moment
            db.session.rollback()
    raise RuntimeError(f"could not store the bulletin {period.label}/{key}")
