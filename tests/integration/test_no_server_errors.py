"""Input an attacker or a careless client sends gets a clear 4xx and changes nothing — never a
500: bodies nested too deep, lone surrogates, numbers and dates beyond what a database or a
calendar holds, a phone number another line has."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

from hotline.extensions import db
from hotline.models import Case, Line

from ..conftest import CASE

DEEP = "[" * 100_000
HUGE = str(2**63)


def _example_url(app: Any, rule: Any) -> str:
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = min(converter.items)
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def _writing_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            out.append((method, _example_url(app, rule)))
    return out


def test_json_nested_too_deep_is_a_400_on_every_endpoint(app, api, tokens):
    routes = _writing_routes(app)
    assert ("POST", "/api/v1/public/messages") in routes and ("POST", "/api/v1/cases") in routes
    for token in (None, tokens.admin):
        for method, url in routes:
            resp = api.call(method, url, token, data=DEEP, content_type="application/json")
            # 503 is a deliberate "not now" (a route that needs Redis, which tests run without).
            assert resp.status_code < 500 or resp.status_code == 503, (method, url)
    for url in ("/api/v1/public/messages", "/api/v1/cases"):
        resp = api.post(url, tokens.operator, data=DEEP, content_type="application/json")
        assert resp.status_code == 400
        assert "nested too deeply" in resp.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_lone_surrogate_in_a_body_is_a_400_naming_it(api, tokens):
    message = ('{"category": "complaint", "name": "\\u5f20\\u5efa\\u534e", '
               '"phone": "13985012345", "content": "\\u8def\\u706f\\u574f\\u4e86\\u4e09\\u5929'
               '\\u4e86\\uff0c\\u8bf7\\u5c3d\\u5feb\\u4fee\\u590d\\ud800"}')
    case = ('{"line": "zhitongche", "channel": "phone", '
            '"content": "\\u62d6\\u6b20\\u5de5\\u7a0b\\u6b3e\\udc00"}')
    for url, body, token in (("/api/v1/public/messages", message, None),
                             ("/api/v1/cases", case, tokens.operator)):
        resp = api.call("POST", url, token, data=body, content_type="application/json",
                        headers={"Idempotency-Key": "k-1"})
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert "surrogate" in resp.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    # A whole pair (an emoji) is one character and is welcome.
    emoji = case.replace("\\udc00", "\\ud83d\\ude00")
    resp = api.call("POST", "/api/v1/cases", tokens.operator, data=emoji,
                    content_type="application/json")
    assert resp.status_code == 201 and resp.get_json()["content"].endswith("😀")


@pytest.mark.parametrize("query", ["start_date=9999-12-31T23:59:59%2B14:00",
                                   "end_date=0001-01-01T00:00:00-12:00",
                                   "start_date=0001-01-01T00:00:00%2B14:00"])
def test_open311_dates_beyond_the_calendar_are_a_400(api, query):
    resp = api.get(f"/open311/v2/requests.json?{query}")
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert "date-time" in resp.get_json()[0]["description"]


@pytest.mark.parametrize("path", [
    "/cases", "/calls", "/callbacks", "/publications", "/bulletins", "/outbox",
    "/supervision/overdue", "/surveys",
])
def test_a_page_beyond_64_bits_is_a_400(api, tokens, path):
    resp = api.get(f"{path}?page={HUGE}", tokens.admin)
    assert resp.status_code in (400, 404), (path, resp.get_data(as_text=True))
    if resp.status_code == 400:
        assert "page" in resp.get_json()["error"]["fields"]


def test_an_id_beyond_64_bits_is_not_found_on_every_route(app, api, tokens):
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if not ints or "year" in ints:
            continue
        url = _example_url(app, rule).replace("/1", f"/{HUGE}", 1)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            resp = api.call(method, url, tokens.admin, json={})
            # No such id: 404 (werkzeug says 405 when another method's rule of the path
            # was tried first); never the 500 of a number the driver cannot send.
            assert resp.status_code in (404, 405), (method, url, resp.get_data(as_text=True))
            checked += 1
    assert checked >= 8  # bulletins, outbox, callbacks, surveys, rules, attachments, media …


@pytest.mark.parametrize("query", [
    "period=0001", "period=9999", "period=9999-12", "period=9999-W52", "period=0001-Q1",
    "from=0001-01-01&to=0001-12-31", "from=9999-01-01&to=9999-12-31", "to=9999-12-31",
])
@pytest.mark.parametrize("path", ["/stats/summary", "/stats/hot", "/stats/departments",
                                  "/stats/charts/volume.svg"])
def test_report_periods_beyond_the_calendar_are_a_400(api, tokens, path, query):
    resp = api.get(f"{path}?{query}", tokens.supervisor)
    assert resp.status_code == 400, (query, resp.get_data(as_text=True))
    assert resp.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", [
    "/supervision/points?from=0001-01-01", "/supervision/points?to=9999-12-31",
    "/cases?received_from=0001-01-01", "/cases?due_before=9999-12-31",
    "/ledger.csv?received_to=9999-12-31", "/calls?from=0001-01-01",
])
def test_dates_beyond_the_calendar_in_queries_are_a_400(api, tokens, path):
    resp = api.get(path, tokens.admin)
    assert resp.status_code == 400, (path, resp.get_data(as_text=True))


def test_a_line_with_another_lines_phone_number_is_a_409(api, tokens):
    line = {"code": "jiuye", "name": "就业服务专线", "number_prefix": "JY",
            "categories": [{"code": "consult", "name": "咨询"}]}
    for number in ("+8685186833668", "0851-86833668"):  # fupin's, as given and as typed
        resp = api.post("/lines", tokens.admin, {**line, "phone_number": number})
        assert resp.status_code == 409, resp.get_data(as_text=True)
        assert "fupin" in resp.get_json()["error"]["message"]
    assert db.session.scalar(select(Line).where(Line.code == "jiuye")) is None
    assert api.post("/lines", tokens.admin, {**line, "phone_number": "0851-12345678"}
                    ).status_code == 201
    resp = api.patch("/lines/jiuye", tokens.admin, {"phone_number": "+8685186894627"})
    assert resp.status_code == 409 and "zhitongche" in resp.get_json()["error"]["message"]
    assert api.patch("/lines/jiuye", tokens.admin,
                     {"phone_number": "0851-12345678"}).status_code == 200  # its own


def test_the_case_body_still_works(api, tokens):
    assert api.post("/cases", tokens.operator, CASE).status_code == 201


def test_control_characters_are_not_stored(api, tokens):
    """Tab and line breaks stay; NUL, escape sequences, DEL and C1 controls go — whatever way the
    text came in (a JSON body, an action's text, the public web form)."""
    content = "反映：\x00小区\x1b[31m门口\x07路灯坏了\x7f一个月\u0085，\t晚上\r\n出行不便。\n请尽快修复。"
    resp = api.post("/cases", tokens.operator, {**CASE, "content": content,
                                                "citizen": {"name": "张\x0b建华"}})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    case = resp.get_json()
    assert case["content"] == "反映：小区[31m门口路灯坏了一个月，\t晚上\r\n出行不便。\n请尽快修复。"
    assert case["citizen"]["name"] == "张建华"
    number = case["number"]
    if case["status"] == "received":
        api.post(f"/cases/{number}/answer", tokens.operator, {"text": "已转告\x1b物业，\x00\n谢谢。"})
        answer = api.get(f"/cases/{number}", tokens.supervisor).get_json()["answer_text"]
        assert answer == "已转告物业，\n谢谢。"
    message = api.post("/public/messages", json={
        "category": "complaint", "name": "李\x00秀英", "phone": "13985012345",
        "content": "路灯坏了\x08三天了，\x1f请尽快修复。"})
    assert message.status_code == 201, message.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.scalars(select(Case).order_by(Case.id)).all()[-1]
    assert (stored.citizen_name, stored.content) == ("李秀英", "路灯坏了三天了，请尽快修复。")


@pytest.mark.parametrize("query", ["period=1900", "period=2999-Q4", "period=2999-W52",
                                   "period=1900-01-01..1904-12-31", "from=2999-01-01&to=2999-12-31"])
def test_report_periods_at_the_edges_of_the_calendar_are_answered(api, tokens, query):
    resp = api.get(f"/stats/hot?{query}", tokens.supervisor)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["topics"] == []
