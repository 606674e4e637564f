"""The learned topic model at intake: trained on a small sample of the shipped real messages,
stored in the database, picked up by a running app without a restart, never switched to when
it is worse, rolled back by an admin; the centre's closed cases become training examples."""

from __future__ import annotations

import random

import pytest

from hotline.extensions import db
from hotline.models import RoutingModel
from routing.learned import Example, TopicModel, prepare, shipped_examples
from routing.training import activate, case_examples, train
from tests.conftest import CASE

SAMPLE_PER_TOPIC = 40


@pytest.fixture(scope="module")
def sample() -> list[Example]:
    """A small stratified sample of the real messages (raw text only), the same every run."""
    rng = random.Random(2020)
    by_topic: dict[str, list[Example]] = {}
    for example in shipped_examples():
        if example.form == "raw":
            by_topic.setdefault(example.topic, []).append(example)
    out = []
    for topic in sorted(by_topic):
        out += rng.sample(by_topic[topic], SAMPLE_PER_TOPIC)
    return out


@pytest.fixture(scope="module")
def small_model(sample) -> TopicModel:
    return TopicModel.train(sample, temperature=0.3)


def store(model: TopicModel, active: bool = True) -> RoutingModel:
    if active:
        db.session.execute(RoutingModel.__table__.update().values(active=False))
    row = RoutingModel(created_by="test", examples=model.meta["examples"],
                       figures={"meta": model.meta}, blob=model.dumps(), active=active)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_model_trained_on_real_messages_names_the_topic_with_a_probability(small_model):
    text = ("小区物业乱收费，房屋漏水也不维修\n"
            "我们小区物业每年上涨物业费，楼顶漏水半年了不给维修，业主委员会反映多次无果。")
    topic, p = small_model.predict([text])[0]
    assert topic == "城乡建设"
    assert 0.0 < p <= 1.0
    probs = small_model.probabilities(prepare("孩子的学校收取补课费\n学校强制学生参加补课并收费"))
    assert next(iter(probs)) == "教育文体"
    assert abs(sum(probs.values()) - 1.0) < 1e-6


def test_a_stored_model_survives_the_database_and_refuses_another_version(small_model):
    blob = small_model.dumps()
    again = TopicModel.loads(blob)
    assert again.classes == small_model.classes
    again.meta["feature_version"] = -1
    with pytest.raises(ValueError):
        TopicModel.loads(again.dumps())


def test_intake_routes_with_the_active_model_and_says_so(api, tokens, small_model):
    row = store(small_model)
    case = api.post("/cases", tokens.operator, {
        **CASE, "line": "board", "channel": "web", "category": "complaint",
        "content": "学校强制补课收费\n孩子所在的中学寒假强制学生参加补课，每人收费八百元，"
                   "不参加的学生被老师批评，请教育局查处。"}).get_json()
    assert case["topic"].startswith("教育文体")
    assert case["routing"]["topic_model"] == row.id
    assert any("学习模型" in r for r in case["routing"]["reasons"])


def test_a_running_app_picks_up_a_newly_active_model_without_restart(app, api, tokens,
                                                                     small_model, sample):
    from tests.integration.web.conftest import LiveServer

    first = store(small_model).id
    import json
    import urllib.request

    def post_case(server_url: str) -> dict:
        req = urllib.request.Request(
            f"{server_url}/api/v1/cases", method="POST",
            data=json.dumps({**CASE, "content": "工厂排放废水污染河道\n附近化工厂夜间偷排污水，"
                                                "河里的鱼都死了，气味刺鼻。"}).encode(),
            headers={"Authorization": f"Bearer {tokens.operator}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    with LiveServer(app) as server:
        assert post_case(server.url)["routing"]["topic_model"] == first
        second = store(TopicModel.train(sample[::2], temperature=0.3)).id
        db.session.remove()
        assert post_case(server.url)["routing"]["topic_model"] == second
        activate(first)  # the admin rolls back
        db.session.remove()
        assert post_case(server.url)["routing"]["topic_model"] == first


def test_closed_cases_are_training_examples_with_their_final_topic(api, tokens):
    case = api.post("/cases", tokens.operator, {**CASE, "kind": "handle"}).get_json()
    number = case["number"]
    api.post(f"/cases/{number}/answer", tokens.operator, {"text": "已电话解释政策。"})
    api.post(f"/cases/{number}/close", tokens.operator, {})
    from hotline.models import Case

    row = db.session.query(Case).filter_by(number=number).one()
    row.topic1 = "劳动和社会保障"  # as a correction by staff leaves it
    db.session.commit()
    examples = case_examples()
    assert [(e.text, e.topic, e.source) for e in examples] == [
        (CASE["content"], "劳动和社会保障", "case")]


def test_an_operators_topic_correction_is_a_training_label_at_once(api, tokens):
    # A citizen writes about a school's fees; routing put it elsewhere. The operator corrects
    # the topic on the open case: the next retrain learns from it, before the case closes.
    content = "学校以补课名义向学生收取资料费，每人三百元，家长不敢拒绝"
    case = api.post("/cases", tokens.operator, {**CASE, "content": content}).get_json()
    number = case["number"]
    r = api.patch(f"/cases/{number}", tokens.operator,
                  {"version": case["version"], "topic": "教育文体/教育收费",
                   "note": "应为教育收费"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["topic"] == "教育文体/教育收费"
    correction = r.get_json()["events"][-1]
    assert correction["action"] == "correct"
    assert correction["data"]["changes"]["topic"]["new"] == "教育文体/教育收费"
    assert r.get_json()["status"] != "closed"
    assert [(e.text, e.topic, e.source) for e in case_examples()] == [
        (content, "教育文体", "case")]


def test_a_topic_outside_the_taxonomy_is_refused_and_changes_nothing(api, tokens):
    case = api.post("/cases", tokens.operator, CASE).get_json()
    for topic in ("教育文体/不存在的二级", "不是主题", "a/b/c/d"):
        r = api.patch(f"/cases/{case['number']}", tokens.operator,
                      {"version": case["version"], "topic": topic})
        assert r.status_code == 400, topic
        assert "topic" in r.get_json()["error"]["fields"]
    after = api.get(f"/cases/{case['number']}", tokens.operator).get_json()
    assert after["topic"] == case["topic"] and after["version"] == case["version"]
    assert case_examples() == []


def test_a_new_model_worse_on_held_back_messages_is_not_switched_to(app, sample, small_model):
    good = store(small_model)
    # A centre retraining on far less data than the active model learned from: the new model
    # is scored with the active one on the held-back part of its own (real, correct) data.
    seen = {e.text for e in sample}
    rng = random.Random(5)
    few: list[Example] = []
    for topic in sorted({e.topic for e in sample}):
        pool = [e for e in shipped_examples() if e.topic == topic and e.form == "raw"
                and e.text not in seen]
        few += rng.sample(pool, 5)
    row = train("test", folds=2, examples=few)
    held = row.figures["held_back"]
    assert held["current_id"] == good.id
    assert held["new"] < held["current"]
    assert not row.active
    assert "not switched" in row.note
    assert db.session.get(RoutingModel, good.id).active


def test_training_reports_cross_validated_accuracy_and_the_confidence_table(app, sample):
    row = train("test", folds=3, examples=sample)
    cv = row.figures["cross_validation"]
    assert cv["n"] == len(sample) and cv["folds"] == 3
    assert 0.5 < cv["accuracy"] <= 1.0  # 40 real messages per topic already say a lot
    assert set(cv["per_class"]) == {e.topic for e in sample}
    shares = [share for _t, share, _a in cv["thresholds"]]
    assert shares == sorted(shares, reverse=True)
    # and on matters it never saw: folds of whole clusters of messages, as many as folds at
    # least (280 messages make fewer than one matter of 170 each)
    unseen = row.figures["unseen_matters"]
    assert unseen["n"] == len(sample) and unseen["folds"] == 3 and unseen["matters"] == 3
    assert 0.3 < unseen["accuracy"] <= 1.0
    assert set(unseen["per_class"]) == {e.topic for e in sample}
    assert row.active  # nothing active before: the first model is switched to


def test_routing_model_api_lists_trains_and_rolls_back(api, tokens, small_model):
    first, second = store(small_model), store(small_model)
    listed = api.get("/routing/models", tokens.supervisor).get_json()["items"]
    assert [m["id"] for m in listed][:2] == [second.id, first.id]
    assert listed[0]["active"] and not listed[1]["active"]
    assert api.post(f"/routing/models/{first.id}/activate", tokens.supervisor).status_code == 403
    resp = api.post(f"/routing/models/{first.id}/activate", tokens.admin)
    assert resp.status_code == 200 and resp.get_json()["active"]
    assert api.post("/routing/models/999999/activate", tokens.admin).status_code == 404
    assert api.get("/routing/models", tokens.handler).status_code == 403


def test_the_department_that_answered_a_matter_before_is_suggested_when_no_rule_decides(app):
    from routing import Department, Router

    departments = [Department("gz-hrss", "贵州省人力资源和社会保障厅", "520000"),
                   Department("gov-520100", "贵阳市人民政府", "520100")]
    history = {("劳动和社会保障", "520100"): {"gz-hrss": 8, "gov-520100": 1}}
    text = "云岩区一家餐馆拖欠我三个月工资，老板一直推脱不给。"
    without = Router([], departments).route(text, "board")
    assert without.department is None
    decision = Router([], departments, history=history).route(text, "board")
    assert decision.topic[0] == "劳动和社会保障"
    assert decision.department == "gz-hrss"
    assert 0 < decision.confidence <= 0.75  # a suggestion: an operator confirms it
    assert any("9 件中 8 件" in r for r in decision.reasons)
    few = {("劳动和社会保障", "520100"): {"gz-hrss": 3}}
    assert Router([], departments, history=few).route(text, "board").department is None


def test_department_history_counts_the_department_each_closed_case_ended_with(api, tokens):
    from routing.training import department_history

    for _ in range(2):
        case = api.post("/cases", tokens.operator, CASE).get_json()
        number = case["number"]
        if case["status"] == "received":
            api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-hrss"})
        for token, action, body in ((tokens.handler, "accept", {}),
                                    (tokens.handler, "reply", {"text": "已督促企业支付。"}),
                                    (tokens.operator, "review", {"approve": True}),
                                    (tokens.operator, "close", {})):
            assert api.post(f"/cases/{number}/{action}", token, body).status_code == 200
    rows = department_history()
    assert [r[1:] for r in rows] == [["520100", "gz-hrss", 2]]


def test_on_a_line_the_model_never_learned_the_lexicon_keeps_topics_the_model_lacks(
        app, small_model):
    from routing import Router, default_rules, demo_departments

    departments = demo_departments()
    router = Router(default_rules(departments), departments, model=small_model)
    text = "我家是建档立卡贫困户，今年种的辣椒没有销路，村里的产业扶贫项目也没有分红，希望帮助解决。"
    fupin = router.route(text, "fupin")
    assert fupin.topic[0] == "农村农业"  # not one of the board's seven: the lexicon's word
    assert not any("学习模型" in r for r in fupin.reasons)
    board = router.route("学校强制补课收费\n中学寒假强制学生补课，每人收费八百元。", "board")
    assert board.topic[0] == "教育文体" and any("学习模型" in r for r in board.reasons)
