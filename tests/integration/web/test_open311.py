"""Open311 GeoReport v2: every answer checked against the spec's shapes (JSON schemas written
from the GeoReport v2 documentation) in JSON and in XML; a client's round trip over real HTTP
(form-encoded POST, then reading back, with the `georeport` client library when installed);
API keys issued and revoked by the admin; the spec's error format."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from hotline.extensions import db
from hotline.models import Case

# --- GeoReport v2 shapes -------------------------------------------------------------------

W3C_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TEXT = {"type": ["string", "null"]}
WHEN = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": W3C_DATETIME}]}


def list_of(required: list[str], properties: dict, **limits: int) -> dict:
    """A list of records that have the `required` fields and no others than `properties`."""
    return {"type": "array", **limits,
            "items": {"type": "object", "required": required, "additionalProperties": False,
                      "properties": properties}}


DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": {"type": "string", "pattern": W3C_DATETIME},
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["specification", "url", "changeset", "type", "formats"],
            "properties": {
                "specification": {"type": "string", "pattern": "^http://wiki.open311.org/"},
                "url": {"type": "string", "pattern": "^https?://"},
                "changeset": {"type": "string", "pattern": W3C_DATETIME},
                "type": {"enum": ["production", "test"]},
                "formats": {"type": "array", "items": {
                    "enum": ["text/xml", "application/json"]}},
            }}},
    },
}
SERVICES = list_of(["service_code", "service_name", "metadata", "type"], {
    "service_code": {"type": "string", "minLength": 1},
    "service_name": {"type": "string", "minLength": 1},
    "description": TEXT, "keywords": TEXT, "group": TEXT,
    "metadata": {"type": "boolean"},
    "type": {"enum": ["realtime", "batch", "blackbox"]},
})
SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": list_of(
            ["variable", "code", "datatype", "required", "order", "description"], {
                "variable": {"type": "boolean"},
                "code": {"type": "string"},
                "datatype": {"enum": ["string", "number", "datetime", "text",
                                      "singlevaluelist", "multivaluelist"]},
                "required": {"type": "boolean"},
                "datatype_description": TEXT,
                "order": {"type": "integer", "minimum": 1},
                "description": {"type": "string"},
                "values": {"type": "array", "items": {
                    "type": "object", "required": ["key", "name"],
                    "properties": {"key": {"type": "string"}, "name": {"type": "string"}}}},
            }),
    },
}
POSTED = {
    "type": "array", "minItems": 1, "maxItems": 1,
    "items": {
        "type": "object",
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"},
                       "service_notice": TEXT, "account_id": TEXT},
    },
}
REQUESTS = list_of(["service_request_id", "status", "service_code", "requested_datetime"], {
    "service_request_id": {"type": "string"},
    "status": {"enum": ["open", "closed"]},
    "status_notes": TEXT, "service_name": TEXT, "service_code": TEXT,
    "description": TEXT, "agency_responsible": TEXT, "service_notice": TEXT,
    "requested_datetime": WHEN, "updated_datetime": WHEN, "expected_datetime": WHEN,
    "address": TEXT, "address_id": TEXT, "zipcode": TEXT,
    "lat": {"type": ["number", "null"]}, "long": {"type": ["number", "null"]},
    "media_url": TEXT,
})
ERRORS = list_of(["code", "description"],
                 {"code": {"type": "integer"}, "description": {"type": "string"}}, minItems=1)

# What each XML list element holds, and the fields that are not text.
XML_LISTS = {"services": "service", "service_requests": "request", "attributes": "attribute",
             "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error"}
XML_BOOLEAN = {"metadata", "variable", "required"}
XML_INTEGER = {"order", "code"}
XML_NUMBER = {"lat", "long"}


def from_xml(element: ET.Element) -> Any:
    """The XML document as the JSON one would be, for validation with the same schema."""
    if element.tag in XML_LISTS:
        assert all(child.tag == XML_LISTS[element.tag] for child in element), element.tag
        return [from_xml(child) for child in element]
    if len(element):
        return {child.tag: from_xml(child) for child in element}
    text = element.text
    if text is None or text == "":
        return None
    if element.tag in XML_BOOLEAN:
        assert text in ("true", "false"), (element.tag, text)
        return text == "true"
    if element.tag in XML_INTEGER and text.lstrip("-").isdigit():
        return int(text)
    if element.tag in XML_NUMBER:
        return float(text)
    return text


def check(resp, schema: dict, fmt: str = "json") -> Any:
    if fmt == "xml":
        assert resp.content_type == "text/xml; charset=utf-8"
        body = resp.get_data()
        assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
        data = from_xml(ET.fromstring(body))
    else:
        assert resp.content_type == "application/json; charset=utf-8"
        data = resp.get_json()
    jsonschema.validate(data, schema)
    return data


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def api_key(api, tokens) -> str:
    resp = api.post("/api/v1/open311/keys", tokens.admin,
                    {"name": "筑城随手拍", "contact": "dev@example.cn"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["api_key"]


REPORT = {
    "service_code": "board-complaint",
    "lat": "26.58347", "long": "106.71478",
    "address_string": "贵阳市云岩区中华北路与北京路交叉口",
    "description": "路口的交通信号灯坏了三天，早晚高峰车辆和行人抢行，非常危险，请尽快修复。",
    "first_name": "建华", "last_name": "张", "phone": "13985012345",
    "email": "zhangjh@example.cn", "device_id": "ios-7f3a", "attribute[public_consent]": "true",
}


def post(client, key: str | None, fmt: str = "json", **fields: str):
    data = {**REPORT, **fields}
    if key is not None:
        data["api_key"] = key
    return client.post(f"/open311/v2/requests.{fmt}", data=data)


# --- discovery and services ----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_spec_and_both_formats(browser, fmt):
    data = check(browser.get(f"/open311/v2/discovery.{fmt}"), DISCOVERY, fmt)
    assert data["endpoints"][0]["url"].endswith("/open311/v2")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_are_the_lines_categories(browser, fmt):
    services = check(browser.get(f"/open311/v2/services.{fmt}"), SERVICES, fmt)
    codes = {s["service_code"] for s in services}
    assert {"fupin-policy_consult", "zhitongche-situation", "board-complaint"} <= codes
    assert len(services) == 5 + 4 + 4
    situation = next(s for s in services if s["service_code"] == "zhitongche-situation")
    assert situation["service_name"] == "情况反映"
    assert situation["group"] == "服务民营企业省长直通车"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_asks_for_consent_enterprise_and_region(browser, fmt):
    data = check(browser.get(f"/open311/v2/services/zhitongche-situation.{fmt}"),
                 SERVICE_DEFINITION, fmt)
    attrs = {a["code"]: a for a in data["attributes"]}
    assert attrs["public_consent"]["description"].startswith("是否愿意公开")
    assert attrs["enterprise"]["required"] is True
    assert {"key": "520100", "name": "贵阳市"} in attrs["region"]["values"]
    board = browser.get("/open311/v2/services/board-complaint.json").get_json()
    assert {a["code"]: a for a in board["attributes"]}["enterprise"]["required"] is False


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_a_404_in_the_spec_error_format(browser, fmt):
    resp = browser.get(f"/open311/v2/services/board-nothing.{fmt}")
    assert resp.status_code == 404
    errors = check(resp, ERRORS, fmt)
    assert errors[0]["code"] == 404 and "board-nothing" in errors[0]["description"]


# --- posting -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_with_a_key_makes_an_open311_case(browser, api_key, fmt):
    resp = post(browser, api_key, fmt)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    posted = check(resp, POSTED, fmt)
    number = posted[0]["service_request_id"]
    case = db.session.query(Case).filter_by(number=number).one()
    assert case.channel == "open311" and case.public_consent is True
    assert case.citizen_name == "张建华" and case.citizen_phone == "+8613985012345"
    assert "地点：贵阳市云岩区中华北路与北京路交叉口" in case.content
    assert case.events[0].actor == "open311:筑城随手拍"
    assert number in posted[0]["service_notice"]


def test_a_retry_with_the_same_idempotency_key_makes_one_case(browser, api_key):
    headers = {"Idempotency-Key": "req-2026-11-23-001"}
    first = browser.post("/open311/v2/requests.json", data={**REPORT, "api_key": api_key},
                         headers=headers)
    again = browser.post("/open311/v2/requests.json", data={**REPORT, "api_key": api_key},
                         headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert db.session.query(Case).count() == 1


BAD_POSTS = [
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "board-nothing"}, 404, "not found"),
    ({"lat": "", "long": "", "address_string": ""}, 400, "location"),
    ({"long": ""}, 400, "together"),
    ({"lat": "north"}, 400, "lat"),
    ({"lat": "91"}, 400, "lat"),
    ({"description": ""}, 400, "description"),
    ({"description": "坏" * 4001}, 400, "description"),
    ({"attribute[public_consent]": "maybe"}, 400, "public_consent"),
    ({"attribute[region]": "guiyang"}, 400, "region"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"service_code": "zhitongche-situation"}, 400, "enterprise"),
    ({"jurisdiction_id": "beijing.gov.cn"}, 404, "jurisdiction_id"),
]


def test_bad_requests_get_the_spec_error_and_change_nothing(browser, api_key):
    for fields, status, words in BAD_POSTS:
        for fmt in ("json", "xml"):
            resp = post(browser, api_key, fmt, **fields)
            assert resp.status_code == status, (fields, fmt)
            errors = check(resp, ERRORS, fmt)
            assert errors[0]["code"] == status and words in errors[0]["description"], fields
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_or_revoked_key_is_403(api, tokens, browser, api_key, fmt):
    assert post(browser, None, fmt).status_code == 403
    resp = post(browser, "o311_guessed", fmt)
    assert resp.status_code == 403
    assert check(resp, ERRORS, fmt)[0]["code"] == 403
    key_id = api.get("/api/v1/open311/keys", tokens.admin).get_json()["items"][0]["id"]
    revoked = api.call("DELETE", f"/api/v1/open311/keys/{key_id}", tokens.admin)
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert post(browser, api_key, fmt).status_code == 403
    assert db.session.query(Case).count() == 0


def test_only_the_admin_issues_keys_and_the_key_is_shown_once(api, tokens, api_key):
    refused = api.post("/api/v1/open311/keys", tokens.supervisor, {"name": "某应用"})
    assert refused.status_code == 403
    listed = api.get("/api/v1/open311/keys", tokens.admin).get_json()["items"]
    assert listed[0]["name"] == "筑城随手拍" and "api_key" not in listed[0]
    assert api_key.startswith(listed[0]["prefix"])
    again = api.post("/api/v1/open311/keys", tokens.admin, {"name": "筑城随手拍"})
    assert again.status_code == 409


def test_posting_is_limited_per_key(app, browser, api_key):
    app.config["WEB_RATE_LIMITS"] = {"open311_write": "2/minute"}
    codes = [post(browser, api_key, description=REPORT["description"] + str(i)).status_code
             for i in range(3)]
    assert codes == [201, 201, 429]
    assert check(post(browser, api_key), ERRORS)[0]["code"] == 429


# --- reading -------------------------------------------------------------------------------

def test_a_posted_request_shows_its_status_but_not_its_text_until_published(
        browser, api, tokens, api_key, drive):
    number = post(browser, api_key).get_json()[0]["service_request_id"]
    got = check(browser.get(f"/open311/v2/requests/{number}.json"), REQUESTS)[0]
    assert got["status"] == "open" and got["service_code"] == "board-complaint"
    assert got["description"] is None and got["lat"] is None and got["address"] is None
    assert got["requested_datetime"].endswith("+08:00")
    handled = drive(number, reply="市交管局已于当日修复该路口信号灯，并加强高峰时段疏导。"
                                  "张建华同志，感谢反映。")
    closed = check(browser.get(f"/open311/v2/requests/{number}.xml"), REQUESTS, "xml")[0]
    assert closed["status"] == "closed" and closed["status_notes"] == "已办结"
    departments = api.get("/departments", tokens.admin).get_json()["items"]
    name = next(d["name"] for d in departments if d["code"] == handled["department"])
    assert closed["agency_responsible"] == name  # the department that handled it
    assert closed["description"] is None
    assert api.post(f"/publications/{number}/approve", tokens.supervisor, {}).status_code == 200
    shown = check(browser.get(f"/open311/v2/requests/{number}.json"), REQUESTS)[0]
    assert shown["description"].startswith("路口的交通信号灯坏了三天")
    assert f"/board/{number}" in shown["status_notes"]
    assert (shown["lat"], shown["long"]) == (26.58, 106.71)  # rounded: a place, not a door
    assert "张建华" not in json.dumps(shown, ensure_ascii=False)


def test_cases_from_other_channels_are_visible_only_once_published(browser, api, tokens,
                                                                   new_case, published_case):
    private = new_case()
    shown = published_case()
    assert browser.get(f"/open311/v2/requests/{private['number']}.json").status_code == 404
    listed = check(browser.get("/open311/v2/requests.json"), REQUESTS)
    assert [r["service_request_id"] for r in listed] == [shown["number"]]
    assert listed[0]["description"] and "张建华" not in listed[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_list_filters_by_id_code_status_and_dates(browser, api_key, drive, fmt):
    a = post(browser, api_key).get_json()[0]["service_request_id"]
    b = post(browser, api_key, service_code="board-suggestion",
             description="建议在黔灵山公园增设无障碍通道和休息座椅，方便老年人和残疾人游览。"
             ).get_json()[0]["service_request_id"]
    drive(b, reply="市园林局已将无障碍设施纳入明年公园改造计划。")

    def ids(query: str) -> list[str]:
        resp = browser.get(f"/open311/v2/requests.{fmt}?{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return sorted(r["service_request_id"] for r in check(resp, REQUESTS, fmt))

    assert ids("") == sorted([a, b])
    assert ids(f"service_request_id={a}") == [a]
    assert ids(f"service_request_id={a},{b}&status=open") == sorted([a, b])  # ids win
    assert ids("service_code=board-suggestion") == [b]
    assert ids("status=open") == [a] and ids("status=closed") == [b]
    assert ids("status=open,closed") == sorted([a, b])
    assert ids("start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z") == []
    assert ids("page_size=1&page=2") and len(ids("page_size=1")) == 1


def test_bad_list_queries_are_400(browser):
    for query, words in (
            ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
            ("start_date=yesterday", "start_date"),
            ("status=pending", "status"),
            ("page_size=5000", "page_size")):
        resp = browser.get(f"/open311/v2/requests.json?{query}")
        assert resp.status_code == 400, query
        assert words in check(resp, ERRORS)[0]["description"], query


def test_unknown_paths_and_tokens_answer_in_the_spec_format(browser):
    resp = browser.get("/open311/v2/tokens/abc123.xml")
    assert resp.status_code == 404
    assert "no tokens" in check(resp, ERRORS, "xml")[0]["description"]
    assert check(browser.get("/open311/v2/requests/ZZ.json"), ERRORS)[0]["code"] == 404
    assert browser.get("/open311/v2/services.csv").status_code == 404


# --- a client's round trip over HTTP -------------------------------------------------------

def _http(method: str, url: str, data: dict | None = None) -> tuple[int, bytes, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def test_round_trip_as_a_client_sends_it_over_http(live_server, api_key):
    base = f"{live_server.url}/open311/v2"
    status, body, _ = _http("GET", f"{base}/services.json")
    assert status == 200
    code = json.loads(body)[0]["service_code"]
    status, body, ctype = _http("POST", f"{base}/requests.xml",
                                {**REPORT, "service_code": code, "api_key": api_key})
    assert status == 201 and ctype.startswith("text/xml")
    number = ET.fromstring(body).find("request/service_request_id").text
    status, body, _ = _http("GET", f"{base}/requests/{number}.json")
    assert status == 200
    jsonschema.validate(json.loads(body), REQUESTS)
    assert json.loads(body)[0]["status"] == "open"
    status, body, _ = _http("POST", f"{base}/requests.json", {**REPORT, "api_key": "wrong"})
    assert status == 403 and json.loads(body)[0]["code"] == 403


def test_round_trip_with_the_georeport_client_library(live_server, api_key, api, tokens,
                                                      drive):
    georeport = pytest.importorskip("georeport", reason="the georeport client is not installed")
    number = json.loads(_http("POST", f"{live_server.url}/open311/v2/requests.json",
                              {**REPORT, "api_key": api_key})[1])[0]["service_request_id"]
    drive(number, reply="市交管局已于当日修复该路口信号灯，并加强高峰时段疏导。")
    api.post(f"/publications/{number}/approve", tokens.supervisor, {})
    for fmt in ("json", "xml"):
        client = georeport.GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
        services = client.get_service_list()
        assert any(s["service_code"] == "board-complaint" for s in services)
        definition = client.get_service_definition("board-complaint")
        assert definition["service_code"] == "board-complaint"
        one = client.get_service_request(number)
        assert one["service_request_id"] == number and one["status"] == "closed"
        many = client.get_service_requests(service_request_id=number, status="closed")
        many = many if isinstance(many, list) else [many]  # xmltodict: one element, no list
        assert [r["service_request_id"] for r in many] == [number]


def test_control_characters_in_a_text_do_not_break_the_xml():
    from channels.open311.formats import to_xml

    body = to_xml("service_requests", [{"description": "路灯不亮\x01\x0b，请修复 <急> & 谢谢"}])
    parsed = from_xml(ET.fromstring(body))
    assert parsed == [{"description": "路灯不亮，请修复 <急> & 谢谢"}]
