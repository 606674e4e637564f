"""The operator's desk (接线台): the new-case form, what appears beside it as the operator types
(routing's suggestion, likely duplicates, the caller's earlier cases, earlier answers), filing
through the API's rules with one case per form, and the number read back to the caller."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Case, CaseEvent

from .conftest import csrf_of

LOW_INCOME = "我是威宁县哈喇河镇的村民，低保申请交上去三个月了还没有批下来，想问问什么原因。"


def desk_form(client, path: str = "/console/desk") -> tuple[str, str, str]:
    html = client.get(path).get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    return html, csrf_of(html), key


def file(client, path: str = "/console/desk", **fields):
    _html, token, key = desk_form(client, path)
    data = {"csrf_token": token, "key": key, "line": "fupin", "content": LOW_INCOME,
            "phone": "13985012345", "name": "李秀英", **fields}
    return client.post(path, data=data)


def count_cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_the_operators_home_is_the_desk_with_every_field_of_a_call(console_as):
    client = console_as("operator")
    assert client.get("/console/").headers["Location"].endswith("/console/desk")
    html = client.get("/console/desk").get_data(as_text=True)
    for field in ('id="line"', 'id="category"', 'id="content"', 'id="phone"', 'id="name"',
                  'id="enterprise"', 'id="region"', 'id="public_consent"', 'id="department"',
                  'id="answer"', 'id="find"', 'id="knowledge-q"'):
        assert field in html, field
    assert "扶贫专线" in html and "省长直通车" in html and "困难诉求" in html
    assert "威宁" in html  # the region picker holds the counties
    assert "Alt+A 采用建议" in html  # the shortcuts are shown


def test_a_department_clerk_has_no_desk(console_as):
    client = console_as("handler")
    assert client.get("/console/desk").status_code == 403
    assert client.get("/console/desk/assist", query_string={"content": LOW_INCOME}
                      ).status_code == 403
    assert client.get("/console/queues/received").status_code == 403


def test_typing_a_call_shows_routings_suggestion_with_its_reasons(console_as):
    html = console_as("operator").get("/console/desk/assist", query_string={
        "line": "fupin", "content": LOW_INCOME}).get_data(as_text=True)
    assert 'id="accept-suggestion" data-department="gov-520500"' in html
    assert "毕节市人民政府" in html and "把握" in html
    assert "农村低保" in html and "威宁" in html
    assert 'id="suggested-category">政策咨询' in html  # the category by its name
    assert "规则" in html  # the reasons name the rule that decided


def test_the_callers_earlier_case_is_listed_however_the_number_is_written(console_as, api,
                                                                         tokens):
    earlier = api.post("/cases", tokens.operator, {
        "line": "fupin", "channel": "phone", "content": "反映危房改造补助一直未到位。",
        "citizen": {"name": "李秀英", "phone": "+8613985012345"}}).get_json()
    client = console_as("operator")
    html = client.get("/console/desk/assist", query_string={
        "line": "fupin", "content": "", "phone": "139-8501-2345"}).get_data(as_text=True)
    assert earlier["number"] in html and "按电话找到 1 件" in html
    by_number = client.get("/console/desk/assist", query_string={
        "line": "fupin", "find": earlier["number"].lower()}).get_data(as_text=True)
    assert earlier["number"] in by_number and "按工单号" in by_number
    by_name = client.get("/console/desk/assist", query_string={
        "line": "fupin", "find": "秀英"}).get_data(as_text=True)
    assert earlier["number"] in by_name
    nobody = client.get("/console/desk/assist", query_string={
        "line": "fupin", "phone": "13700009999"}).get_data(as_text=True)
    assert earlier["number"] not in nobody and "没有找到以往工单" in nobody


def test_a_likely_duplicate_of_the_same_caller_is_shown(console_as, api, tokens):
    earlier = api.post("/cases", tokens.operator, {
        "line": "fupin", "channel": "phone", "content": LOW_INCOME,
        "citizen": {"name": "李秀英", "phone": "13985012345"}}).get_json()
    html = console_as("operator").get("/console/desk/assist", query_string={
        "line": "fupin", "content": LOW_INCOME, "phone": "+86 139 8501 2345"}
    ).get_data(as_text=True)
    assert 'id="duplicates"' in html and earlier["number"] in html


def test_filing_makes_the_case_and_shows_its_number_large_for_the_caller(console_as):
    client = console_as("operator")
    resp = file(client)
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.line.code, case.channel, case.citizen_phone, case.citizen_name) == (
        "fupin", "phone", "+8613985012345", "李秀英")
    assert case.events[0].actor == "坐席小王"
    page = client.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert f'<span class="num" id="saved-number">{case.number}</span>' in html
    assert 'id="copy-number"' in html
    # ready for the next call: an empty form with a fresh key
    assert '<textarea id="content" name="content" rows="6" autofocus required maxlength="20000">' \
           '</textarea>' in html


def test_accepting_the_suggestion_files_and_dispatches_in_one_step(console_as):
    client = console_as("operator")
    resp = file(client, department="gov-520500", category="hardship", region="520526")
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.status, case.department_code) == ("dispatched", "gov-520500")
    assert [(e.action, e.actor) for e in case.events[:2]] == [("create", "坐席小王"),
                                                              ("dispatch", "坐席小王")]
    assert case.routing["department"] == "gov-520500"  # routing still suggested
    assert case.routing["auto_dispatched"] is False


def test_a_changed_department_is_the_one_dispatched_to(console_as):
    file(console_as("operator"), department="gz-civil")
    case = db.session.scalar(select(Case))
    assert (case.status, case.department_code) == ("dispatched", "gz-civil")


def test_a_double_submit_of_one_form_makes_one_case(console_as):
    client = console_as("operator")
    _html, token, key = desk_form(client)
    data = {"csrf_token": token, "key": key, "line": "fupin", "content": LOW_INCOME,
            "phone": "13985012345"}
    first = client.post("/console/desk", data=data)
    again = client.post("/console/desk", data=data)
    assert first.headers["Location"] == again.headers["Location"]
    assert count_cases() == 1


def test_bad_input_is_said_beside_its_field_and_files_nothing(console_as):
    client = console_as("operator")
    resp = file(client, content="   ", phone="一三九")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "来电内容：" in html and "联系电话：号码格式不正确。" in html
    assert 'value="一三九"' in html  # what was typed stays
    unknown = file(client, department="no-such-dept")
    assert unknown.status_code == 422 and "no-such-dept" in unknown.get_data(as_text=True)
    category = file(client, category="donation", line="zhitongche")
    assert category.status_code == 422
    assert count_cases() == 0


def test_a_form_without_its_csrf_token_files_nothing(console_as):
    client = console_as("operator")
    _html, _token, key = desk_form(client)
    resp = client.post("/console/desk", data={"key": key, "line": "fupin", "content": LOW_INCOME})
    assert resp.status_code == 400
    assert count_cases() == 0


def test_the_desk_remembers_the_operators_last_line(console_as):
    client = console_as("operator")
    file(client, line="zhitongche", enterprise="贵州黔兴建筑有限公司",
         content="我公司工程款被拖欠两年，请帮助协调。")
    html = client.get("/console/desk").get_data(as_text=True)
    assert '<option value="zhitongche" selected>' in html
    case = db.session.scalar(select(Case))
    assert case.citizen_enterprise == "贵州黔兴建筑有限公司"


def test_an_answer_found_in_the_knowledge_is_given_on_the_spot(console_as, api, tokens):
    earlier = api.post("/cases", tokens.operator, {
        "line": "fupin", "channel": "phone", "content": "低保申请多长时间能审批下来？"}).get_json()
    answer = "低保申请由乡镇受理、县民政局审批，自受理之日起30个工作日内办结。"
    api.post(f"/cases/{earlier['number']}/answer", tokens.operator, {"text": answer})
    client = console_as("operator")
    found = client.get("/console/desk/knowledge", query_string={"q": "低保 审批 多久",
                                                                "line": "fupin"})
    html = found.get_data(as_text=True)
    assert earlier["number"] in html and answer in html and "用此答复" in html
    none = client.get("/console/desk/knowledge", query_string={"q": "护照办理"})
    assert "没有与" in none.get_data(as_text=True)

    resp = file(client, answer=answer, knowledge_case=earlier["number"], department="gz-civil")
    assert resp.status_code == 302
    case = db.session.scalar(select(Case).where(Case.number != earlier["number"]))
    assert (case.status, case.kind, case.answer_text) == ("answered", "instant", answer)
    assert case.department_code is None  # answered, not dispatched
    event = case.events[-1]
    assert (event.action, event.note) == ("answer", f"参考已答工单 {earlier['number']}")


def test_a_supervisor_may_use_the_desk_but_only_an_operator_answers_on_the_spot(console_as):
    client = console_as("supervisor")
    assert client.get("/console/desk").status_code == 200
    resp = file(client, answer="已当场答复。")
    assert resp.status_code == 403
    assert count_cases() == 0
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0
