"""The reports page (统计报表): the summary of a period and filters as tables and charts, the
bulletins with their HTML and XLSX, the ledger export of the same cases — and a handler sees
only their own department's figures, cases and bulletin edition, whatever they ask for."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.deadlines import local_date
from hotline.models.types import utcnow
from hotline.reports.bulletin import write_bulletin
from hotline.reports.periods import month_of

from ...conftest import CASE
from .conftest import csrf_of

HRSS = "贵州省人力资源和社会保障厅"
GUIYANG = "贵阳市人民政府"


@pytest.fixture
def two_departments(api: Any, tokens: Any) -> dict[str, str]:
    """A case dispatched to gz-hrss and one to gov-520100, received now."""
    numbers = {}
    for department, content in (
            ("gz-hrss", "我公司为员工缴纳的社保补贴申请了三个月还没有到账，请人社厅帮助查询。"),
            ("gov-520100", "贵阳市观山湖区某路段路灯损坏两个月，夜间出行很不安全，请修复。")):
        resp = api.post("/cases", tokens.operator, {**CASE, "content": content})
        assert resp.status_code == 201, resp.get_json()
        number = resp.get_json()["number"]
        resp = api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": department})
        assert resp.status_code == 200, resp.get_json()
        numbers[department] = number
    return numbers


def ranking_of(html: str) -> str:
    return html.split('id="ranking"')[1].split("</table>")[0]


def test_supervisor_reads_the_report_of_a_period_with_tables_and_charts(console_as,
                                                                        two_departments):
    sup = console_as("supervisor")
    resp = sup.get("/console/reports")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<dd id="fig-total">2</dd>' in html
    ranking = ranking_of(html)
    assert HRSS in ranking and GUIYANG in ranking
    assert "情况反映" in html.split('id="by-category"')[1].split("</table>")[0]
    for chart in ("volume", "categories", "departments", "channels", "topics"):
        assert f'/console/reports/charts/{chart}.svg' in html
    svg = sup.get("/console/reports/charts/departments.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data().lstrip().startswith(b"<?xml") or b"<svg" in svg.get_data()[:400]
    assert 'id="hot-topics"' in html and 'id="hot-clusters"' in html
    assert "15 秒内接通" in html.split('id="phone"')[1]
    one = sup.get("/console/reports?department=gz-hrss").get_data(as_text=True)
    assert '<dd id="fig-total">1</dd>' in one and GUIYANG not in ranking_of(one)


def test_period_picker_offers_weeks_months_quarters_years_and_dates(console_as,
                                                                    two_departments):
    sup = console_as("supervisor")
    html = sup.get("/console/reports").get_data(as_text=True)
    month = month_of(local_date(utcnow()))
    for group in ('label="周"', 'label="月"', 'label="季度"', 'label="年"'):
        assert group in html
    assert f'value="{month.label}"' in html and 'type="date" name="from"' in html
    last_year = sup.get(f"/console/reports?period={month.start.year - 1}").get_data(as_text=True)
    assert '<dd id="fig-total">0</dd>' in last_year
    today = local_date(utcnow()).isoformat()
    dates = sup.get(f"/console/reports?from={today}&to={today}&period=2020").get_data(
        as_text=True)
    assert '<dd id="fig-total">2</dd>' in dates  # typed dates win over the picker


def test_bad_filters_are_said_and_nothing_breaks(console_as, two_departments):
    sup = console_as("supervisor")
    for query in ("period=2026-13", "from=2026-12-10&to=2026-12-01", "region=abc",
                  "line=nope", "channel=fax", "rank_by=name", "from=not-a-date"):
        resp = sup.get(f"/console/reports?{query}")
        assert resp.status_code == 400, query
        assert "查询条件有误" in resp.get_data(as_text=True), query


def test_handler_sees_only_their_departments_figures_whatever_they_ask(console_as,
                                                                      two_departments):
    hrss = console_as("handler")
    for query in ("", "?department=gov-520100"):
        html = hrss.get(f"/console/reports{query}").get_data(as_text=True)
        assert '<dd id="fig-total">1</dd>' in html, query
        assert HRSS in ranking_of(html) and GUIYANG not in ranking_of(html)
        assert 'name="department"' not in html
        assert 'id="phone"' not in html  # the centre's phone figures are no department's
    ledger = hrss.get("/console/reports/ledger.csv?department=gov-520100").get_data(
        as_text=True)
    assert two_departments["gov-520100"] not in ledger
    ledger = hrss.get("/console/reports/ledger.csv").get_data(as_text=True)
    assert two_departments["gz-hrss"] in ledger
    assert two_departments["gov-520100"] not in ledger


def test_ledger_export_is_the_pages_period_and_filters(console_as, two_departments):
    sup = console_as("supervisor")
    html = sup.get("/console/reports?department=gov-520100").get_data(as_text=True)
    link = html.split('id="ledger-csv" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "received_from=" in link and "department=gov-520100" in link
    resp = sup.get(link)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    body = resp.get_data(as_text=True)
    assert two_departments["gov-520100"] in body and two_departments["gz-hrss"] not in body
    xlsx = sup.get(html.split('id="ledger-xlsx" href="')[1].split('"')[0].replace("&amp;", "&"))
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert sup.get("/console/reports/ledger.csv?received_from=yesterday").status_code == 400


def test_bulletins_are_listed_with_their_html_and_xlsx_in_each_persons_edition(
        console_as, two_departments):
    bulletin = write_bulletin(month_of(local_date(utcnow())))
    sup = console_as("supervisor")
    html = sup.get("/console/reports").get_data(as_text=True)
    listing = html.split('id="bulletins"')[1]
    assert bulletin.title in listing
    page = sup.get(f"/console/reports/bulletins/{bulletin.id}.html")
    assert page.status_code == 200 and GUIYANG in page.get_data(as_text=True)
    xlsx = sup.get(f"/console/reports/bulletins/{bulletin.id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    mine = console_as("handler").get(f"/console/reports/bulletins/{bulletin.id}.html")
    assert mine.status_code == 200
    assert HRSS in mine.get_data(as_text=True) and GUIYANG not in mine.get_data(as_text=True)
    assert sup.get("/console/reports/bulletins/999999.html").status_code == 404


def test_supervisor_writes_the_bulletin_of_the_period_on_the_page(console_as, two_departments):
    sup = console_as("supervisor")
    month = month_of(local_date(utcnow()))
    page = sup.get(f"/console/reports?period={month.label}").get_data(as_text=True)
    form = page.split('id="write-bulletin"')[1].split("</form>")[0]
    assert f'name="period" value="{month.label}"' in form
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = sup.post("/console/reports/bulletins", data={
        "csrf_token": token, "period": month.label, "line": "",
        "back": f"/console/reports?period={month.label}"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已生成《" in html and month.title in html.split("已生成《")[1].split("》")[0]
    assert month.title in html.split('id="bulletins"')[1]
    bad = sup.post("/console/reports/bulletins", data={"csrf_token": token, "period": "2026-13"},
                   follow_redirects=True)
    assert "未能生成通报" in bad.get_data(as_text=True)
    for role in ("operator", "handler"):
        client = console_as(role)
        assert 'id="write-bulletin"' not in client.get("/console/reports").get_data(as_text=True)
        token = csrf_of(client.get("/console/reports").get_data(as_text=True))
        assert client.post("/console/reports/bulletins", data={
            "csrf_token": token, "period": month.label}).status_code == 403
