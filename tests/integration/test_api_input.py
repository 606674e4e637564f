"""Bad input on every endpoint gets the JSON error of docs/lifecycle.md ("Refusals") with the
field named, and nothing is written; retries with an Idempotency-Key are safe."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Case, CaseEvent, Department, User

from ..conftest import CASE


def counts() -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Case, CaseEvent, Department, User))


def assert_error(resp, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    err = resp.get_json()["error"]
    assert set(err) == {"code", "message", "fields"} and err["message"]
    if field:
        assert field in err["fields"] or any(
            field in (v if isinstance(v, dict) else {}) for v in err["fields"].values()), err
    return err


@pytest.mark.parametrize("body,field", [
    ({**CASE, "line": None}, "line"),
    ({k: v for k, v in CASE.items() if k != "content"}, "content"),
    ({**CASE, "content": "   "}, "content"),
    ({**CASE, "channel": "fax"}, "channel"),
    ({**CASE, "kind": "urgent"}, "kind"),
    ({**CASE, "public_consent": "maybe"}, "public_consent"),
    ({**CASE, "region": "Guiyang"}, "region"),
    ({**CASE, "citizen": {"phone": "call me"}}, "citizen"),
    ({**CASE, "citizen": {"name": "张三", "wechat": "x"}}, "citizen"),
    ({**CASE, "priority": 1}, "priority"),
    ({**CASE, "received_at": "yesterday"}, "received_at"),
    ({**CASE, "content": "长" * 20001}, "content"),
])
def test_invalid_case_is_refused_naming_the_field_and_nothing_is_written(api, tokens, body, field):
    before = counts()
    err = assert_error(api.post("/cases", tokens.operator, body), 400, field)
    assert err["code"] == "validation_error"
    assert counts() == before


@pytest.mark.parametrize("body,field", [
    ({**CASE, "line": "nosuchline"}, "line"),
    ({**CASE, "category": "donation"}, "category"),  # a fupin category on the zhitongche line
])
def test_case_naming_unknown_line_or_category_is_422(api, tokens, body, field):
    before = counts()
    assert_error(api.post("/cases", tokens.operator, body), 422, field)
    assert counts() == before


def test_received_at_in_the_future_is_refused(api, tokens):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    before = counts()
    assert_error(api.post("/cases", tokens.operator, {**CASE, "received_at": future}), 400,
                 "received_at")
    assert counts() == before


def test_received_at_in_the_past_sets_the_deadlines(api, tokens):
    r = api.post("/cases", tokens.operator, {**CASE, "received_at": "2026-09-30T16:00:00+08:00"})
    body = r.get_json()
    assert r.status_code == 201
    assert body["received_at"] == "2026-09-30T16:00:00+08:00"
    assert body["number"].startswith("ZT20260930-")
    assert (body["accept_due_date"], body["due_date"]) == ("2026-10-08", "2026-10-20")
    assert body["due_at"] == "2026-10-20T23:59:59+08:00"
    assert body["created_at"] > body["received_at"]


def test_malformed_json_is_a_400(api, tokens):
    before = counts()
    r = api.call("POST", "/cases", tokens.operator, data='{"line": "fupin",',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    r = api.call("POST", "/cases", tokens.operator, data="line=fupin",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 400)
    assert_error(api.post("/cases", tokens.operator, ["not", "an", "object"]), 400)
    assert counts() == before


def test_oversized_body_is_a_413(api, tokens):
    big = {**CASE, "content": "字" * 600_000}
    before = counts()
    assert_error(api.post("/cases", tokens.operator, big), 413)
    assert counts() == before


def test_missing_or_wrong_token_is_a_401(api, tokens):
    assert_error(api.get("/cases"), 401)
    assert_error(api.get("/cases", "hl_forged"), 401)
    r = api.call("GET", "/cases", headers={"Authorization": f"Basic {tokens.operator}"})
    assert_error(r, 401)


def test_handlers_cannot_log_cases(api, tokens):
    before = counts()
    assert_error(api.post("/cases", tokens.handler, CASE), 403)
    assert counts() == before


@pytest.mark.parametrize("action,body,field", [
    ("dispatch", {}, "department"),
    ("dispatch", {"department": "gz-hrss", "kind": "instant"}, "kind"),
    ("dispatch", {"department": "gz-hrss", "urgent": True}, "urgent"),
    ("dispatch", {"department": "gz-hrss", "version": "one"}, "version"),
    ("answer", {"text": ""}, "text"),
    ("answer", {"text": 42}, "text"),
])
def test_invalid_action_body_is_refused_naming_the_field(api, tokens, new_case, action, body,
                                                        field):
    n = new_case()["number"]
    before = counts()
    assert_error(api.post(f"/cases/{n}/{action}", tokens.operator, body), 400, field)
    assert counts() == before
    assert api.get(f"/cases/{n}", tokens.operator).get_json()["status"] == "received"


def test_dispatch_to_unknown_department_is_422_and_changes_nothing(api, tokens, new_case):
    n = new_case()["number"]
    before = counts()
    assert_error(api.post(f"/cases/{n}/dispatch", tokens.operator, {"department": "gz-moon"}),
                 422, "department")
    assert counts() == before


@pytest.mark.parametrize("body", [
    {"working_days": "5", "reason": "x"}, {"working_days": 0, "reason": "x"},
    {"working_days": 3}, {"working_days": 3.5, "reason": "x"},
])
def test_invalid_extension_is_refused(api, tokens, new_case, body):
    n = new_case()["number"]
    api.post(f"/cases/{n}/dispatch", tokens.operator, {"department": "gz-hrss"})
    api.post(f"/cases/{n}/accept", tokens.handler, {})
    before = counts()
    assert_error(api.post(f"/cases/{n}/extension", tokens.handler, body), 400)
    assert counts() == before


def test_review_needs_a_real_boolean(api, tokens, new_case):
    n = new_case()["number"]
    assert_error(api.post(f"/cases/{n}/review", tokens.operator, {"approve": "yes"}), 400,
                 "approve")


# --- idempotency ---------------------------------------------------------------------------

def test_same_idempotency_key_and_body_returns_the_same_case(api, tokens):
    headers = {"Idempotency-Key": "call-2026-0001"}
    first = api.post("/cases", tokens.operator, CASE, headers=headers)
    again = api.post("/cases", tokens.operator, CASE, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["number"] == first.get_json()["number"]
    assert api.get("/cases", tokens.operator).get_json()["total"] == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(api, tokens):
    headers = {"Idempotency-Key": "call-2026-0002"}
    api.post("/cases", tokens.operator, CASE, headers=headers)
    before = counts()
    r = api.post("/cases", tokens.operator, {**CASE, "content": "另一件事"}, headers=headers)
    assert_error(r, 409)
    assert counts() == before


def test_idempotency_keys_of_different_users_do_not_collide(api, tokens):
    headers = {"Idempotency-Key": "1"}
    a = api.post("/cases", tokens.operator, CASE, headers=headers).get_json()["number"]
    b = api.post("/cases", tokens.supervisor, CASE, headers=headers).get_json()["number"]
    assert a != b


def test_case_numbers_count_up_per_line_and_day(api, tokens):
    numbers = [api.post("/cases", tokens.operator, CASE).get_json()["number"] for _ in range(3)]
    fupin = api.post("/cases", tokens.operator,
                     {**CASE, "line": "fupin", "category": "hardship"}).get_json()["number"]
    day = numbers[0][2:10]
    assert numbers == [f"ZT{day}-0001", f"ZT{day}-0002", f"ZT{day}-0003"]
    assert fupin == f"FP{day}-0001"


# --- list ----------------------------------------------------------------------------------

def test_case_list_filters_and_paginates(api, tokens, new_case):
    a = new_case(content="威宁县哈喇河镇低保评定不公平，请核查。", line="fupin",
                 category="complaint", region="520526")["number"]
    b = new_case()["number"]
    c = new_case(content="咨询小微企业稳岗补贴申请条件", category="policy_consult")["number"]
    api.post(f"/cases/{b}/dispatch", tokens.operator, {"department": "gz-hrss"})

    def numbers(query: str) -> list[str]:
        r = api.get(f"/cases?{query}", tokens.supervisor)
        assert r.status_code == 200, r.get_json()
        return [x["number"] for x in r.get_json()["items"]]

    assert numbers("line=fupin") == [a]
    assert numbers("status=dispatched") == [b]
    assert numbers("department=gz-hrss") == [b]
    assert numbers("category=policy_consult") == [c]
    assert numbers("region=520500") == [a]  # the county is inside Bijie
    assert numbers("q=稳岗补贴") == [c]
    assert sorted(numbers("overdue=false")) == sorted([a, b, c])
    assert numbers("overdue=true") == []
    far = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    assert len(numbers(f"due_before={far}")) == 3
    assert numbers("due_before=2020-01-01") == []
    page = api.get("/cases?per_page=2&page=2", tokens.supervisor).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["page"] == 2


def test_department_works_its_queue_soonest_deadline_first(api, tokens, new_case):
    recent = new_case(content="咨询今年以工代训补贴什么时候发放。")["number"]
    older = new_case(received_at="2026-11-20T10:00:00+08:00")["number"]
    oldest = new_case(received_at="2026-11-16T10:00:00+08:00",
                      content="企业职工养老保险转移接续办了两个月还没办好。")["number"]
    for number in (recent, older, oldest):
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-hrss"})

    def queue(query: str) -> list[str]:
        r = api.get(f"/cases?status=dispatched&{query}", tokens.handler)
        assert r.status_code == 200, r.get_json()
        return [x["number"] for x in r.get_json()["items"]]

    assert queue("sort=due") == [oldest, older, recent]
    assert queue("sort=-due") == [recent, older, oldest]
    assert queue("") == [recent, older, oldest]  # newest first unless asked
    assert queue("sort=received") == [oldest, older, recent]


def test_overdue_filter_finds_cases_past_their_deadline(api, tokens, new_case):
    late = new_case(received_at="2026-09-01T09:00:00+08:00")["number"]
    new_case()
    r = api.get("/cases?overdue=true", tokens.supervisor).get_json()
    assert [x["number"] for x in r["items"]] == [late]
    assert r["items"][0]["overdue"] is True


@pytest.mark.parametrize("query,field", [
    ("status=lost", "status"), ("per_page=1000", "per_page"), ("page=0", "page"),
    ("due_before=tomorrow", "due_before"), ("overdue=perhaps", "overdue"), ("sort=x", "sort"),
])
def test_bad_list_query_is_a_400_naming_the_parameter(api, tokens, query, field):
    assert_error(api.get(f"/cases?{query}", tokens.operator), 400, field)


# --- administration ------------------------------------------------------------------------

def test_admin_creates_a_department_and_others_may_not(api, tokens):
    body = {"code": "gov-520526", "name": "威宁彝族回族苗族自治县人民政府", "region": "520526"}
    assert_error(api.post("/departments", tokens.supervisor, body), 403)
    r = api.post("/departments", tokens.admin, body)
    assert r.status_code == 201 and r.get_json()["region"] == "520526"
    assert_error(api.post("/departments", tokens.admin, body), 409, "code")


@pytest.mark.parametrize("body,field", [
    ({"code": "X Y", "name": "n", "region": "520100"}, "code"),
    ({"code": "gov-x", "name": "", "region": "520100"}, "name"),
    ({"code": "gov-x", "name": "n", "region": "52"}, "region"),
    ({"code": "gov-x", "name": "n"}, "region"),
    ({"code": "gov-x", "name": "n", "region": "520100", "boss": "x"}, "boss"),
])
def test_invalid_department_is_refused(api, tokens, body, field):
    before = counts()
    assert_error(api.post("/departments", tokens.admin, body), 400, field)
    assert counts() == before


def test_admin_creates_users_and_handlers_need_a_department(api, tokens):
    r = api.post("/users", tokens.admin, {"name": "zunyi1", "role": "handler",
                                          "department": "gov-520300"})
    assert r.status_code == 201
    token = r.get_json()["token"]
    assert api.get("/me", token).get_json()["department"] == "gov-520300"
    before = counts()
    assert_error(api.post("/users", tokens.admin, {"name": "x1", "role": "handler"}), 400,
                 "department")
    assert_error(api.post("/users", tokens.admin, {"name": "x2", "role": "king"}), 400, "role")
    assert_error(api.post("/users", tokens.admin, {"name": "x3", "role": "handler",
                                                   "department": "nowhere"}), 422, "department")
    assert counts() == before


def test_admin_edits_a_category_deadline_and_new_cases_follow_it(api, tokens):
    r = api.patch("/lines/zhitongche/categories/general_consult", tokens.admin, {"reply_days": 3})
    assert r.status_code == 200
    body = api.post("/cases", tokens.operator, {**CASE, "category": "general_consult",
                                                "received_at": "2026-11-02T10:00:00+08:00"})
    assert body.get_json()["due_date"] == "2026-11-05"


def test_lines_are_listed_with_their_categories(api, tokens):
    lines = {x["code"]: x for x in api.get("/lines", tokens.operator).get_json()["items"]}
    assert lines["fupin"]["phone_number"] == "+8685186833668"
    assert [c["code"] for c in lines["fupin"]["categories"]] == [
        "policy_consult", "hardship", "complaint", "suggestion", "donation"]
    assert [c["name"] for c in lines["zhitongche"]["categories"]] == [
        "一般咨询", "情况反映", "政策咨询", "意见建议"]


@pytest.mark.parametrize("path", ["/departments/gz-hrss", "/lines/fupin",
                                  "/lines/fupin/categories/hardship"])
def test_renaming_to_an_empty_name_is_refused_and_the_name_kept(api, tokens, path):
    before = api.get("/departments" if "departments" in path else "/lines", tokens.admin).data
    assert_error(api.patch(path, tokens.admin, {"name": ""}), 400, "name")
    assert api.get("/departments" if "departments" in path else "/lines",
                   tokens.admin).data == before
