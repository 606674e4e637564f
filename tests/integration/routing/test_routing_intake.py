"""Routing at intake through the staff API: suggestions, automatic dispatch, rules edited by an
admin, and likely duplicates."""

from __future__ import annotations

import pytest


@pytest.fixture
def gov_weining(api, tokens):
    r = api.post("/departments", tokens.admin,
                 {"code": "gov-520526", "name": "威宁彝族回族苗族自治县人民政府", "region": "520526"})
    assert r.status_code == 201


def log(api, tokens, **body):
    base = {"channel": "phone", "citizen": {"phone": "13800000000"}}
    r = api.post("/cases", tokens.operator, {**base, **body})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_guiyang_social_security_complaint_goes_to_guiyang(api, tokens):
    case = log(api, tokens, line="board", content="贵阳市社会保障热线12333形同虚设")
    assert case["region"] == "520100"
    assert case["topic"].startswith("劳动和社会保障")
    assert case["routing"]["department"] == "gov-520100"


def test_forced_poverty_exit_in_weining_goes_to_weining_county(api, tokens, gov_weining):
    case = log(api, tokens, line="fupin",
               content="我是毕节市威宁县哈喇河镇的村民，给一包农用肥就被强制脱贫是否符合国家精准扶贫")
    assert case["region"] == "520526"
    assert case["routing"]["department"] == "gov-520526"
    assert case["routing"]["region_name"].startswith("威宁")


def test_confident_case_is_dispatched_automatically_with_reasons(api, tokens, gov_weining):
    case = log(api, tokens, line="fupin",
               content="我是毕节市威宁县哈喇河镇的村民，给一包农用肥就被强制脱贫是否符合国家精准扶贫")
    assert case["routing"]["confidence"] >= case["routing"]["threshold"]
    assert case["status"] == "dispatched" and case["department"] == "gov-520526"
    dispatch = case["events"][-1]
    assert dispatch["action"] == "dispatch" and dispatch["actor"] == "routing"
    assert "威宁" in dispatch["note"] and "自动分派" in dispatch["note"]


def test_automatic_dispatch_of_a_case_logged_with_an_earlier_moment_is_at_that_moment(
        app, gov_weining):
    import datetime as dt

    from hotline import services
    from hotline.domain.lifecycle import Actor

    then = dt.datetime(2026, 9, 30, 8, 0, tzinfo=dt.UTC)  # 16:00 the day before National Day
    case, _ = services.create_case(
        {"line": "fupin", "channel": "phone", "received_at": then,
         "content": "我是毕节市威宁县哈喇河镇的村民，给一包农用肥就被强制脱贫是否符合国家精准扶贫"},
        Actor("导入", "operator"), now=then)
    assert [e.action for e in case.events] == ["create", "dispatch"]
    assert {e.at for e in case.events} == {then}
    # Signing is due at the end of the first working day after the dispatch (1–7 October are
    # the holiday), not after today.
    assert case.accept_due_date == dt.date(2026, 10, 8)


def test_unsure_case_waits_for_an_operator_with_the_suggestion_shown(api, tokens):
    api.patch("/lines/board", tokens.admin, {"auto_dispatch_threshold": 1.0})
    case = log(api, tokens, line="board", content="贵阳市社会保障热线12333形同虚设")
    assert case["status"] == "received" and case["department"] is None
    assert case["routing"]["department"] == "gov-520100"
    assert case["routing"]["auto_dispatched"] is False and case["routing"]["reasons"]


def test_editing_a_rule_changes_the_next_decision_without_restart(api, tokens):
    text = "遵义市汇川区某工地拖欠农民工工资三个月，老板跑了，请帮忙讨薪"
    first = log(api, tokens, line="board", content=text)
    rule = {"keywords": ["讨薪", "拖欠农民工工资"], "department": "gz-hrss", "priority": 900,
            "note": "欠薪专项行动期间统一交人社厅"}
    assert first["routing"]["department"] != "gz-hrss"
    r = api.post("/rules", tokens.admin, rule)
    assert r.status_code == 201
    second = log(api, tokens, line="board", content=text)
    assert second["routing"]["department"] == "gz-hrss"
    assert second["routing"]["rule_id"] == r.get_json()["id"]
    api.patch(f"/rules/{r.get_json()['id']}", tokens.admin, {"active": False})
    third = log(api, tokens, line="board", content=text)
    assert third["routing"]["department"] == first["routing"]["department"]


def test_rules_refer_to_things_that_exist(api, tokens):
    for body, field, status in (
        ({"department": "gz-nowhere"}, "department", 422),
        ({"department": "gz-hrss", "line": "nope"}, "line", 422),
        ({"department": "gz-hrss", "category": "complaint"}, "category", 400),
        ({"department": "gz-hrss", "region_level": "village"}, "region_level", 400),
    ):
        r = api.post("/rules", tokens.admin, body)
        assert r.status_code == status and field in r.get_json()["error"]["fields"], r.get_json()
    assert api.post("/rules", tokens.operator, {"department": "gz-hrss"}).status_code == 403


def test_demo_seed_ships_the_default_rules_for_admins_to_edit(api, tokens):
    rules = api.get("/rules", tokens.supervisor).get_json()["items"]
    assert len(rules) >= 10
    assert any(r["department"] == "{region}" for r in rules)


CALLER = {"phone": "13908571234", "name": "李秀英"}
FIRST_CALL = "我家是建档立卡贫困户，今年的危房改造补助一直没有发下来，村里说还在审核。"


def called_twice(api, tokens) -> tuple[dict, dict]:
    """The same caller's first case on the 扶贫 line and the one they call again about."""
    first = log(api, tokens, line="fupin", citizen=CALLER, content=FIRST_CALL)
    second = log(api, tokens, line="fupin", citizen=CALLER,
                 content="又打来问一下，我们家危房改造补助到现在还没发，村里一直说在审核。")
    return first, second


def test_same_caller_with_similar_content_is_linked_as_a_likely_duplicate(api, tokens):
    first, second = called_twice(api, tokens)
    other = log(api, tokens, line="fupin", citizen=CALLER,
                content="想咨询一下小孩上大学的助学贷款怎么申请。")
    assert second["duplicate_of"] == first["number"]
    assert any(e["action"] == "duplicate" for e in second["events"])
    assert other["duplicate_of"] is None
    by_twilio = log(api, tokens, line="fupin", citizen={"phone": "+8613908571234"},
                    content="危房改造补助还没发下来，村里说在审核，我想问问到底什么时候能发。")
    assert by_twilio["duplicate_of"] in (first["number"], second["number"])
    stranger = log(api, tokens, line="fupin", citizen={"phone": "13700001111"},
                   content=FIRST_CALL)
    assert stranger["duplicate_of"] is None


def test_routing_fills_category_and_region_the_operator_left_open(api, tokens):
    case = log(api, tokens, line="zhitongche",
               content="请问国家对小微企业减税降费的政策有哪些，我们在六盘水市的企业能不能享受？")
    # What the router suggested is what the case now carries (its accuracy is tested in
    # tests/unit/test_routing*.py).
    assert case["category"] in {"policy_consult", "general_consult"}
    assert case["category"] == case["routing"]["category"]
    assert case["region"] == "520200"
    explicit = log(api, tokens, line="zhitongche", category="situation", region="520300",
                   content="请问国家对小微企业减税降费的政策有哪些，我们在六盘水市的企业能不能享受？")
    assert explicit["category"] == "situation" and explicit["region"] == "520300"


def test_a_handler_learns_nothing_of_a_duplicate_in_another_department(api, tokens):
    first, second = called_twice(api, tokens)
    assert second["duplicate_of"] == first["number"]
    for case, department in ((first, "gov-520100"), (second, "gz-hrss")):
        r = api.post(f"/cases/{case['number']}/dispatch", tokens.operator,
                     {"department": department})
        assert r.status_code == 200, r.get_json()

    # The handler of the second case's department: no number, no "疑似重复件" step.
    seen = api.get(f"/cases/{second['number']}", tokens.handler).get_json()
    assert seen["duplicate_of"] is None
    assert [e for e in seen["events"] if e["action"] == "duplicate"] == []
    listed = api.get("/cases", tokens.handler).get_json()["items"]
    assert [c["number"] for c in listed] == [second["number"]]
    for body in (seen, listed):
        assert first["number"] not in str(body) and "疑似重复" not in str(body)
    # The ledger export neither (its 重复件 column is the handler's to know only for their own).
    ledger = api.get("/ledger.csv", tokens.handler).get_data(as_text=True).splitlines()
    assert len(ledger) == 2 and ledger[1].startswith(second["number"])
    assert ledger[1].endswith(",否")
    assert api.get("/ledger.csv", tokens.supervisor).get_data(as_text=True).splitlines()[
        2].endswith(",是")
    # Staff who see every department, and a handler who holds both cases, still see the link.
    assert api.get(f"/cases/{second['number']}", tokens.supervisor).get_json()[
        "duplicate_of"] == first["number"]
    r = api.post(f"/cases/{first['number']}/return", tokens.other_handler,
                 {"reason": "属于人社部门职责"})
    assert r.status_code == 200, r.get_json()
    r = api.post(f"/cases/{first['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    assert r.status_code == 200, r.get_json()
    again = api.get(f"/cases/{second['number']}", tokens.handler).get_json()
    assert again["duplicate_of"] == first["number"]
    assert any(e["action"] == "duplicate" for e in again["events"])
