"""The operators' queues: 待派单 with routing's suggestion taken in one click, 退单 with the
department's reason, 待审核, 回拨 — with counts, the case list's filters and sorting."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Case
from hotline.models.followup import CallbackTask
from hotline.models.types import utcnow

from .conftest import csrf_of

LOW_INCOME = "我是威宁县哈喇河镇的村民，低保申请交上去三个月了还没有批下来，想问问什么原因。"
HOUSING = "我想反映个事情，上次打电话说过了，到现在也没人来处理，希望尽快给个说法。"


def log(api, tokens, content: str, **extra) -> dict:
    resp = api.post("/cases", tokens.operator, {"line": "fupin", "channel": "phone",
                                                "content": content, **extra})
    assert resp.status_code == 201
    return resp.get_json()


def counts(html: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(
        r'id="queue-(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', html)}


def test_queue_counts_are_on_the_desk_and_each_queue(console_as, api, tokens):
    log(api, tokens, LOW_INCOME)
    log(api, tokens, HOUSING)
    replied = log(api, tokens, "咨询扶贫小额信贷贴息政策。")
    n = replied["number"]
    api.post(f"/cases/{n}/dispatch", tokens.operator, {"department": "gz-hrss"})
    api.post(f"/cases/{n}/accept", tokens.handler)
    api.post(f"/cases/{n}/reply", tokens.handler, {"text": "已答复。"})
    db.session.add(CallbackTask(kind="missed_call", phone="13700001111", line_code="fupin",
                                reason="未接来电，12-07 09:30：排队等待时挂机", status="open",
                                dedupe_key="missed_call:CA1", created_at=utcnow()))
    db.session.commit()
    received = db.session.query(Case).filter(Case.status == "received").count()
    client = console_as("operator")
    desk = counts(client.get("/console/desk").get_data(as_text=True))
    assert desk == {"received": received, "returned": 0, "replied": 1, "callbacks": 1}
    page = client.get("/console/queues/callbacks").get_data(as_text=True)
    assert counts(page) == desk
    assert "13700001111" in page and "排队等待时挂机" in page
    review = client.get("/console/queues/replied").get_data(as_text=True)
    assert n in review


def test_accepting_the_suggestion_in_the_queue_dispatches_it(console_as, api, tokens):
    case = log(api, tokens, LOW_INCOME)
    assert case["status"] == "received"  # not sure enough to dispatch alone
    client = console_as("operator")
    page = client.get("/console/queues/received")
    html = page.get_data(as_text=True)
    row = html[html.index(f'id="row-{case["number"]}"'):]
    row = row[:row.index("</tr>")]
    assert "毕节市人民政府" in row and "采用并派单" in row
    assert '<option value="gov-520500" selected>' in row
    resp = client.post(f"/console/queues/dispatch/{case['number']}", data={
        "csrf_token": csrf_of(html), "department": "gov-520500", "version": case["version"],
        "back": "/console/queues/received"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/queues/received"
    db.session.expire_all()
    done = db.session.scalar(select(Case).where(Case.number == case["number"]))
    assert (done.status, done.department_code) == ("dispatched", "gov-520500")
    assert done.events[-1].actor == "坐席小王"
    assert case["number"] not in client.get("/console/queues/received").get_data(as_text=True)


def test_a_case_dispatched_by_someone_else_meanwhile_is_not_dispatched_twice(console_as, api,
                                                                             tokens):
    case = log(api, tokens, LOW_INCOME)
    client = console_as("operator")
    html = client.get("/console/queues/received").get_data(as_text=True)
    api.post(f"/cases/{case['number']}/dispatch", tokens.supervisor, {"department": "gz-civil"})
    resp = client.post(f"/console/queues/dispatch/{case['number']}", data={
        "csrf_token": csrf_of(html), "department": "gov-520500", "version": case["version"]})
    assert resp.status_code == 409
    assert "刚被别人处理过" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Case.department_code)) == "gz-civil"


def test_dispatching_without_a_department_changes_nothing(console_as, api, tokens):
    case = log(api, tokens, HOUSING)
    client = console_as("operator")
    html = client.get("/console/queues/received").get_data(as_text=True)
    resp = client.post(f"/console/queues/dispatch/{case['number']}",
                       data={"csrf_token": csrf_of(html), "department": ""})
    assert resp.status_code == 400 and "请选择一个承办单位" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Case.status)) == "received"


def test_a_returned_case_shows_the_departments_reason(console_as, api, tokens):
    case = log(api, tokens, HOUSING)
    api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    api.post(f"/cases/{case['number']}/return", tokens.handler,
             {"reason": "商品房交付属住建部门职责，非人社事项。"})
    html = console_as("operator").get("/console/queues/returned").get_data(as_text=True)
    assert case["number"] in html
    assert "省人力资源和社会保障厅" in html or "gz-hrss" in html
    assert "商品房交付属住建部门职责，非人社事项。" in html


def test_queues_filter_and_sort_like_the_case_list(console_as, api, tokens):
    first = log(api, tokens, LOW_INCOME, citizen={"phone": "13985012345"})
    second = log(api, tokens, HOUSING, citizen={"phone": "13700001111"})
    client = console_as("operator")
    html = client.get("/console/queues/received",
                      query_string={"phone": "139 8501 2345"}).get_data(as_text=True)
    assert first["number"] in html and second["number"] not in html
    oldest = client.get("/console/queues/received",
                        query_string={"sort": "received"}).get_data(as_text=True)
    assert oldest.index(first["number"]) < oldest.index(second["number"])
    newest = client.get("/console/queues/received").get_data(as_text=True)
    assert newest.index(second["number"]) < newest.index(first["number"])
    # the queue's own status cannot be filtered away
    html = client.get("/console/queues/received",
                      query_string={"status": "closed"}).get_data(as_text=True)
    assert first["number"] in html
    bad = client.get("/console/queues/received", query_string={"sort": "nonsense"})
    assert bad.status_code == 200 and "查询条件有误" in bad.get_data(as_text=True)
    assert client.get("/console/queues/nonsense").status_code == 404
