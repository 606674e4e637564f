"""A case from intake to closure through the staff API, as the README's curl walk does it."""

from __future__ import annotations


def test_case_goes_from_intake_to_closure_with_every_step_on_its_timeline(api, tokens, new_case):
    case = new_case()
    number = case["number"]
    assert number.startswith("ZT") and case["status"] == "received"
    steps = [
        (tokens.operator, "dispatch", {"department": "gz-hrss"}, "dispatched"),
        (tokens.handler, "accept", {}, "accepted"),
        (tokens.handler, "reply", {"text": "已协调区住建局，拖欠工程款将于月底前分两期支付。"}, "replied"),
        (tokens.supervisor, "review", {"approve": True}, "reviewed"),
        (tokens.operator, "close", {}, "closed"),
    ]
    for token, action, body, status in steps:
        resp = api.post(f"/cases/{number}/{action}", token, body)
        assert resp.status_code == 200, (action, resp.get_json())
        assert resp.get_json()["status"] == status

    detail = api.get(f"/cases/{number}", tokens.operator).get_json()
    actions = [(e["action"], e["actor"]) for e in detail["events"]]
    assert actions == [("create", "op1"), ("dispatch", "op1"), ("accept", "hrss1"),
                       ("reply", "hrss1"), ("review", "sup1"), ("close", "op1")]
    assert all(e["at"].endswith("+08:00") for e in detail["events"])
    assert detail["department"] == "gz-hrss"
    assert detail["reply_text"].startswith("已协调")
