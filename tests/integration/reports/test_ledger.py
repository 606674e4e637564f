"""The case ledger (台账) export: the case list's filters, CSV and XLSX, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from hotline.extensions import db

from .conftest import local

OCT12 = local(2026, 10, 12, 9, 30)


@pytest.fixture
def ledger_cases(build):
    build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gz-hrss", region="520102",
                  citizen={"name": "王建国", "phone": "13985012345"})
    build.closed(local(2026, 10, 14, 9, 0), local(2026, 10, 15, 9, 0), department="gz-tax",
                 channel="wechat", line="fupin", category="hardship", region="520526")
    late = build.case(local(2026, 10, 2, 9, 0), content="=HYPERLINK(\"http://x\",\"点我\") 工资拖欠",
                      citizen={"name": "@李四", "phone": "+14155552671"})
    build.act(late, "dispatch", local(2026, 10, 2, 10, 0), department="gz-hrss")
    supervised = build.case(local(2026, 11, 2, 9, 0), category="general_consult")
    build.act(supervised, "instruct", local(2026, 11, 2, 11, 0), text="请人社厅专题研究")
    build.case(local(2026, 11, 3, 9, 0), category="policy_consult", kind="inform")
    return late


def csv_rows(resp) -> list[dict[str, str]]:
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


QUERIES = [
    "", "status=replied", "line=fupin", "category=situation", "department=gz-hrss",
    "channel=wechat", "kind=inform", "region=520100", "supervised=true", "overdue=true",
    "overdue=false", "received_from=2026-10-12&received_to=2026-10-14", "q=工资",
    "due_before=2026-10-20", "line=zhitongche&status=received",
]


def test_ledger_has_the_same_cases_as_the_list(api, tokens, ledger_cases):
    for query in QUERIES:
        listed = api.get(f"/cases?per_page=100&{query}", tokens.supervisor).get_json()
        resp = api.get(f"/ledger.csv?{query}", tokens.supervisor)
        assert resp.status_code == 200, query
        numbers = sorted(r["工单编号"] for r in csv_rows(resp))
        assert numbers == sorted(c["number"] for c in listed["items"]), query
        assert len(numbers) == listed["total"], query


def test_ledger_rows_read_like_the_clerks_paper_ledger(api, tokens, ledger_cases):
    rows = csv_rows(api.get("/ledger.csv?department=gz-hrss&status=replied",
                            tokens.supervisor))
    assert len(rows) == 1
    row = rows[0]
    assert row["线路"] == "服务民营企业省长直通车"
    assert row["诉求类别"] == "情况反映"
    assert row["状态"] == "已答复"
    assert row["承办单位"] == "贵州省人力资源和社会保障厅"
    assert row["受理时间"] == "2026-10-12 09:30:00"  # local time, as the clerk logged it
    assert row["答复时限"] == "2026-10-26"
    assert row["按期答复"] == "是"
    assert row["联系电话"] == "13985012345"


def test_text_that_looks_like_a_formula_is_never_run_by_a_spreadsheet(api, tokens, ledger_cases):
    rows = csv_rows(api.get("/ledger.csv?q=工资", tokens.supervisor))
    assert rows[0]["诉求内容"].startswith("'=HYPERLINK")
    assert rows[0]["姓名"] == "'@李四"
    assert rows[0]["联系电话"] == "+1 415-555-2671"  # a phone number is not taken for a formula


def test_ledger_as_xlsx_opens_with_the_same_rows(api, tokens, ledger_cases):
    resp = api.get("/ledger.xlsx", tokens.supervisor)
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    ws = wb["台账"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("工单编号", "线路", "渠道")
    assert len(rows) == 1 + 5
    contents = [r[12] for r in rows[1:]]
    # In XLSX the text is a string cell: no apostrophe, and no formula either.
    assert any(c.startswith("=HYPERLINK") for c in contents)
    formulas = openpyxl.load_workbook(io.BytesIO(resp.data))["台账"]
    assert all(cell.data_type != "f" for row in formulas.iter_rows() for cell in row)


def test_a_handler_exports_only_their_department(api, tokens, ledger_cases):
    rows = csv_rows(api.get("/ledger.csv", tokens.handler))
    assert {r["承办单位"] for r in rows} == {"贵州省人力资源和社会保障厅"}
    assert len(rows) == 2


def test_ledger_streams_in_pieces_from_a_cursor(api, tokens, bulk):
    bulk("zhitongche", {"situation": 2300}, local(2026, 10, 15, 10, 0))
    resp = api.get("/ledger.csv", tokens.supervisor, buffered=False)
    assert resp.is_streamed
    chunks = list(resp.response)
    assert len(chunks) >= 4  # header, then a piece every 500 rows
    assert sum(c.count(b"\r\n") for c in chunks) == 2301
    resp.close()


def test_ledger_refuses_paging_and_unknown_filters(api, tokens):
    assert api.get("/ledger.csv?page=2", tokens.supervisor).status_code == 400
    assert api.get("/ledger.xlsx?colour=red", tokens.supervisor).status_code == 400


def test_ledger_marks_overdue_unanswered_cases(api, tokens, ledger_cases):
    db.session.expire_all()
    rows = {r["工单编号"]: r for r in csv_rows(api.get("/ledger.csv", tokens.supervisor))}
    assert rows[ledger_cases.number]["超期未答复"] == "是"
    assert dt.date.fromisoformat(rows[ledger_cases.number]["答复时限"]) < dt.date.today()
