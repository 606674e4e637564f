"""The staff case list found by the citizen's phone number however it was written (an operator
types 139-8501-2345 for a caller Twilio gave as +8613985012345), and by part of a name."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Case


@pytest.fixture
def callers(new_case):
    """Three cases of one caller under three spellings, one of another caller, one of a
    landline with its area code."""
    made = {
        "twilio": new_case(citizen={"name": "王建国", "phone": "+8613985012345"}),
        "typed": new_case(citizen={"name": "王建国", "phone": "139-8501-2345"}),
        "plain": new_case(citizen={"name": "王建国", "phone": "13985012345"}),
        "other": new_case(citizen={"name": "李秀英", "phone": "13700001111"}),
        "landline": new_case(citizen={"name": "张国强", "phone": "0851-86833668"}),
    }
    return {k: v["number"] for k, v in made.items()}


def numbers(resp) -> set[str]:
    assert resp.status_code == 200, resp.get_json()
    return {item["number"] for item in resp.get_json()["items"]}


@pytest.mark.parametrize("typed", ["13985012345", "+86 139 8501 2345", "008613985012345",
                                   "8613985012345", "139-8501-2345"])
def test_every_spelling_of_a_mobile_finds_all_its_cases(api, tokens, callers, typed):
    found = numbers(api.get("/cases", tokens.operator, query_string={"phone": typed}))
    assert found == {callers["twilio"], callers["typed"], callers["plain"]}


def test_a_landline_is_found_with_or_without_the_area_codes_zero(api, tokens, callers):
    for typed in ("085186833668", "+8685186833668", "0851 8683 3668"):
        found = numbers(api.get("/cases", tokens.operator, query_string={"phone": typed}))
        assert found == {callers["landline"]}, typed


def test_another_number_finds_nothing_and_a_part_of_a_number_is_not_a_match(api, tokens,
                                                                            callers):
    assert numbers(api.get("/cases", tokens.operator,
                           query_string={"phone": "13985012346"})) == set()
    assert numbers(api.get("/cases", tokens.operator, query_string={"phone": "2345"})) == set()


def test_part_of_a_name_finds_that_citizens_cases(api, tokens, callers):
    found = numbers(api.get("/cases", tokens.operator, query_string={"name": "秀英"}))
    assert found == {callers["other"]}
    both = numbers(api.get("/cases", tokens.operator,
                           query_string={"name": "王建国", "phone": "13985012345"}))
    assert len(both) == 3


def test_a_phone_that_is_no_phone_is_refused_with_the_field_named(api, tokens):
    resp = api.get("/cases", tokens.operator, query_string={"phone": "一三九"})
    assert resp.status_code == 400
    assert "phone" in resp.get_json()["error"]["fields"]


def test_a_handler_finding_by_phone_sees_only_their_departments_cases(api, tokens, callers):
    api.post(f"/cases/{callers['typed']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    own = api.get("/cases", tokens.handler, query_string={"phone": "13985012345"}).get_json()
    assert callers["typed"] in {item["number"] for item in own["items"]}
    assert {item["department"] for item in own["items"]} == {"gz-hrss"}
    other = numbers(api.get("/cases", tokens.other_handler,
                            query_string={"phone": "13985012345"}))
    assert callers["typed"] not in other


def test_a_corrected_phone_is_found_under_its_new_number(app, api, tokens, callers):
    case = db.session.query(Case).filter(Case.number == callers["other"]).one()
    case.citizen_phone = "+86 137-0000-2222"
    db.session.commit()
    assert numbers(api.get("/cases", tokens.operator,
                           query_string={"phone": "13700002222"})) == {callers["other"]}
    assert numbers(api.get("/cases", tokens.operator,
                           query_string={"phone": "13700001111"})) == set()


def test_the_openapi_document_lists_the_phone_and_name_filters(api):
    spec = api.get("/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/cases"]["get"]["parameters"]}
    assert {"phone", "name"} <= names
