"""The console's case search finds a caller's cases by phone (however written) and by name,
with the API's scoping."""

from __future__ import annotations

from tests.conftest import CASE


def test_operator_finds_a_callers_cases_by_the_number_as_typed(console_as, api, tokens):
    mine = api.post("/cases", tokens.operator, {
        **CASE, "citizen": {"name": "王建国", "phone": "+8613985012345"}}).get_json()
    other = api.post("/cases", tokens.operator, {
        **CASE, "citizen": {"name": "李秀英", "phone": "13700001111"}}).get_json()
    client = console_as("operator")
    page = client.get("/console/cases", query_string={"phone": "139 8501 2345"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert mine["number"] in html and other["number"] not in html
    assert 'value="139 8501 2345"' in html  # the search stays in the box
    by_name = client.get("/console/cases", query_string={"name": "秀英"}).get_data(as_text=True)
    assert other["number"] in by_name and mine["number"] not in by_name


def test_a_bad_phone_in_the_search_is_said_on_the_page_not_a_500(console_as):
    page = console_as("operator").get("/console/cases", query_string={"phone": "电话"})
    assert page.status_code == 200
    assert "查询条件有误" in page.get_data(as_text=True)


def test_a_handler_searching_a_phone_sees_no_other_departments_case(console_as, api, tokens):
    case = api.post("/cases", tokens.operator, {
        **CASE, "citizen": {"name": "王建国", "phone": "13985012345"}}).get_json()
    api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    html = console_as("other_handler").get(
        "/console/cases", query_string={"phone": "13985012345"}).get_data(as_text=True)
    assert case["number"] not in html
    html = console_as("handler").get(
        "/console/cases", query_string={"phone": "13985012345"}).get_data(as_text=True)
    assert case["number"] in html
