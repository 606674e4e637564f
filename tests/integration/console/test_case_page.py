"""The case page: what each role sees and may do in each status, the forms that do it (with the
version read and the CSRF token), the file of the case (一案一档), and corrections after intake."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from hotline import attachments, outbox, services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Attachment, Case, Line, Survey
from hotline.models.types import utcnow
from tests.conftest import CASE

from .conftest import csrf_of

OPERATOR = Actor("坐席小王", "operator")
SUPERVISOR = Actor("督办老李", "supervisor")
HANDLER = Actor("人社承办", "handler", "gz-hrss")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# How a case gets to each status, step by step, as the people of the `staff` fixture.
STEPS = {
    "received": [],
    "dispatched": [("dispatch", OPERATOR, {"department": "gz-hrss"})],
    "accepted": [("accept", HANDLER, {})],
    "replied": [("reply", HANDLER, {"text": "已协调区住建局，工程款将于本月底前分两期支付。"})],
    "reviewed": [("review", SUPERVISOR, {"approve": True})],
    "closed": [("close", OPERATOR, {})],
}
ORDER = list(STEPS)


def case_in(status: str, **overrides: Any) -> Case:
    """A case of the 省长直通车 line, moved to `status` through the lifecycle."""
    line = db.session.scalar(select(Line).where(Line.code == "zhitongche"))
    line.auto_dispatch_threshold = 1.01  # never dispatched by routing: the test decides
    db.session.commit()
    case, _ = services.create_case({**CASE, **overrides}, OPERATOR)
    for step in ORDER[1:ORDER.index(status) + 1]:
        for action, actor, body in STEPS[step]:
            services.act(case.number, action, actor, dict(body))
    assert case.status == status
    return case


def page_of(client: Any, number: str) -> str:
    resp = client.get(f"/console/cases/{number}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def offered(html: str) -> set[str]:
    return set(re.findall(r'<details class="action" id="act-([a-z-]+)"', html))


def post_action(client: Any, number: str, action: str, data: dict, html: str | None = None,
                **kw: Any):
    html = html or page_of(client, number)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_of(html), "version": version, **data}
    return client.post(f"/console/cases/{number}/act/{action}", data=form, **kw)


@pytest.mark.parametrize(("role", "status", "expected"), [
    ("operator", "received", {"dispatch", "answer", "merge", "priority", "internal-note",
                              "correct"}),
    ("supervisor", "received", {"dispatch", "instruct", "merge", "priority", "internal-note",
                                "correct"}),
    ("admin", "received", {"dispatch", "answer", "instruct", "merge", "priority",
                           "internal-note", "correct"}),
    ("handler", "dispatched", {"accept", "return", "assign", "internal-note"}),
    ("operator", "dispatched", {"recall", "cohandle", "merge", "priority", "internal-note",
                                "correct"}),
    ("handler", "accepted", {"extension", "reply", "assign", "interim-reply", "internal-note"}),
    ("supervisor", "accepted", {"recall", "instruct", "cohandle", "merge", "priority",
                                "internal-note", "correct"}),
    ("handler", "replied", {"internal-note"}),
    ("operator", "replied", {"review", "priority", "internal-note", "correct"}),
    ("supervisor", "replied", {"review", "instruct", "priority", "internal-note", "correct"}),
    ("operator", "reviewed", {"close", "priority", "internal-note", "correct"}),
    ("handler", "closed", {"internal-note"}),
    ("operator", "closed", {"internal-note", "correct"}),
    ("supervisor", "closed", {"reopen", "internal-note", "correct"}),
])
def test_each_role_sees_only_the_buttons_it_may_use_in_each_status(console_as, role, status,
                                                                   expected):
    case = case_in(status)
    html = page_of(console_as(role), case.number)
    assert offered(html) == expected
    if not expected:
        assert "此工单当前没有需要您办理的操作" in html


def test_handler_of_another_department_gets_the_not_found_page_for_the_case_and_its_files(
        console_as):
    case = case_in("accepted")
    client = console_as("other_handler")
    resp = client.get(f"/console/cases/{case.number}")
    assert resp.status_code == 404 and "没有找到" in resp.get_data(as_text=True)
    assert case.number not in resp.get_data(as_text=True)
    assert client.get(f"/console/cases/{case.number}/attachments/1").status_code == 404
    own = page_of(console_as("handler"), case.number)
    resp = client.post(f"/console/cases/{case.number}/act/reply",
                       data={"csrf_token": csrf_of(own), "version": "3", "text": "越权答复"})
    assert resp.status_code in (400, 404)
    db.session.refresh(case)
    assert case.status == "accepted" and case.reply_text is None


def test_a_handler_signs_for_a_case_and_the_timeline_says_who_and_when(console_as):
    case = case_in("dispatched")
    client = console_as("handler")
    resp = post_action(client, case.number, "accept", {})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "签收已完成" in html
    assert 'id="case-status">已签收' in html
    timeline = html[html.index('id="timeline"'):]
    assert "签收" in timeline and "人社承办（承办人）" in timeline
    assert "转办" in timeline and "坐席小王（坐席）" in timeline
    assert offered(html) == {"extension", "reply", "assign", "interim-reply", "internal-note"}


def test_a_form_posted_without_its_csrf_token_changes_nothing(console_as):
    case = case_in("dispatched")
    client = console_as("handler")
    page_of(client, case.number)
    events = len(case.events)
    resp = client.post(f"/console/cases/{case.number}/act/accept",
                       data={"version": str(case.version)})
    assert resp.status_code == 400 and "表单已失效" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "dispatched" and len(case.events) == events


def test_a_stale_version_shows_the_new_state_and_changes_nothing(console_as):
    case = case_in("replied")
    supervisor, operator = console_as("supervisor"), console_as("operator")
    seen = page_of(supervisor, case.number)  # the supervisor opens the page ...
    resp = post_action(operator, case.number, "review", {"approve": "true"})  # ... the operator
    assert resp.status_code == 302                                              # approves first
    resp = post_action(supervisor, case.number, "review",
                       {"approve": "false", "note": "答复未说明付款时间"}, html=seen)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "此工单已被他人修改" in html and "您的“审核”没有执行" in html
    assert 'id="case-status">已审核' in html  # the state as it is now
    db.session.refresh(case)
    assert case.status == "reviewed"
    assert [e.action for e in case.events].count("review") == 1


def test_return_needs_a_reason_and_then_leaves_the_department(console_as):
    case = case_in("dispatched")
    client = console_as("handler")
    resp = post_action(client, case.number, "return", {"reason": "  "})
    assert resp.status_code == 400 and "请填写理由" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "dispatched"
    resp = post_action(client, case.number, "return", {"reason": "工程款拖欠应由贵阳市住建局办理"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/"
    assert client.get(f"/console/cases/{case.number}").status_code == 404
    html = page_of(console_as("operator"), case.number)
    assert 'id="case-status">已退单' in html
    assert "退单理由" not in html  # the form is not open; the reason is on the timeline
    timeline = html[html.index('id="timeline"'):]
    assert "退单" in timeline and "工程款拖欠应由贵阳市住建局办理" in timeline
    assert "贵州省人力资源和社会保障厅" in timeline  # which department returned it, by name


def test_an_action_the_role_may_not_take_is_refused_in_chinese_and_changes_nothing(console_as):
    case = case_in("dispatched")
    resp = post_action(console_as("operator"), case.number, "accept", {})
    assert resp.status_code == 403
    assert "不允许这项操作" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "dispatched"


def test_extension_request_then_the_supervisors_decision_with_the_days_on_the_timeline(
        console_as):
    case = case_in("accepted")
    handler, supervisor = console_as("handler"), console_as("supervisor")
    resp = post_action(handler, case.number, "extension", {"working_days": "0", "reason": "核查"})
    assert resp.status_code == 400 and "延期天数须为 1 到 30 个工作日" in resp.get_data(as_text=True)
    resp = post_action(handler, case.number, "extension",
                       {"working_days": "5", "reason": "需会同区住建局现场核查"})
    assert resp.status_code == 302
    assert "extension" not in offered(page_of(handler, case.number))
    html = page_of(supervisor, case.number)
    assert "extension-decision" in offered(html)
    assert "申请延期 5 个工作日：需会同区住建局现场核查" in html
    resp = post_action(supervisor, case.number, "extension-decision",
                       {"approve": "true", "note": "同意"}, html=html)
    assert resp.status_code == 302
    html = page_of(supervisor, case.number)
    timeline = html[html.index('id="timeline"'):]
    assert "申请延期" in timeline and "延期审批" in timeline
    assert "5 个工作日" in timeline and "同意" in timeline
    db.session.refresh(case)
    assert case.extension_days == 5


def test_a_clerk_replies_with_a_pdf_which_is_kept_and_downloadable_only_within_the_scope(
        app, console_as):
    case = case_in("accepted")
    client = console_as("handler")
    resp = post_action(client, case.number, "reply", {
        "text": "经核实，区住建局已安排资金，工程款于12月20日前支付完毕。",
        "attachments": (io.BytesIO(PDF), "付款计划.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    html = page_of(console_as("supervisor"), case.number)
    assert 'id="case-status">已答复' in html
    link = re.search(r'href="(/console/cases/[^"]+/attachments/\d+)" class="doc">付款计划.pdf', html)
    assert link, html[html.index('id="attachments"'):][:800]
    download = console_as("supervisor").get(link.group(1))
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    assert console_as("other_handler").get(link.group(1)).status_code == 404
    timeline = html[html.index('id="timeline"'):]
    assert "答复" in timeline and "附件" in timeline and "付款计划.pdf" in timeline
    item = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    assert item.url == f"/api/v1/cases/{case.number}/attachments/{item.id}"


def test_a_reply_with_a_file_that_is_not_a_pdf_or_picture_is_refused_and_nothing_is_kept(
        app, console_as):
    case = case_in("accepted")
    folder = attachments.upload_folder()
    before = set(folder.rglob("*")) if folder.exists() else set()
    resp = post_action(console_as("handler"), case.number, "reply", {
        "text": "答复见附件", "attachments": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "答复.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "不是 JPG、PNG 图片或 PDF 文件" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "accepted" and case.reply_text is None and not case.attachments
    assert (set(folder.rglob("*")) if folder.exists() else set()) == before


def test_the_page_shows_pictures_recordings_messages_and_surveys(app, console_as):
    case = case_in("closed", channel="web")
    written = attachments.store(case, [attachments.Upload("现场.png", "png", "image/png", PNG)],
                                Actor("citizen:web", "citizen"))
    assert written
    case.attachments.append(Attachment(kind="recording", url="https://api.twilio.com/RE1",
                                       media_id="RE0123456789", filename="RE0123456789.wav",
                                       content_type="audio/wav"))
    message = outbox.enqueue(case, "sms", "13985012345",
                             "【省长直通车】您反映的问题已办结，答复已发送。", "notify")
    message.status = "dead"
    message.last_error = "号码已停机"
    db.session.add(Survey(case=case, round=1, channel="sms", recipient="13985012345",
                          sent_at=utcnow(), answered_at=utcnow(), rating="unsatisfied",
                          comment="钱还没有到账"))
    db.session.commit()
    html = page_of(console_as("operator"), case.number)
    picture = re.search(r'<img src="(/console/cases/[^"]+/attachments/\d+\?inline=1)"', html)
    assert picture
    shown = console_as("operator").get(picture.group(1))
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert "attachment" not in shown.headers.get("Content-Disposition", "")
    assert "通话录音" in html and "尚未保存到本系统" in html
    messages = html[html.index('id="messages"'):]
    assert "您反映的问题已办结" in messages and "未能送达" in messages and "号码已停机" in messages
    surveys = html[html.index('id="surveys"'):]
    assert "不满意" in surveys and "钱还没有到账" in surveys


def test_the_routing_suggestion_and_its_reasons_are_shown(console_as):
    case = case_in("received")
    case.routing = {"department": "gz-hrss", "confidence": 0.62, "threshold": 0.8,
                    "auto_dispatched": False, "topic": ["劳动保障", "欠薪", None],
                    "category": "situation", "region": "520100", "region_name": "贵阳市",
                    "region_source": "text",
                    "reasons": ["关键词“拖欠工资”→ 人社部门", "地名“贵阳市”→ 520100"]}
    db.session.commit()
    html = page_of(console_as("operator"), case.number)
    routing = html[html.index('id="routing"'):]
    assert "把握 62%" in routing and "自动派单门槛 80%" in routing
    assert "关键词“拖欠工资”→ 人社部门" in routing and "劳动保障 / 欠薪" in routing
    # the dispatch form starts on the suggested department
    assert re.search(r'<option value="gz-hrss" selected>[^<]*（建议）', html)


# --- corrections after intake -----------------------------------------------------------------

def test_operator_corrects_category_and_phone_and_the_timeline_keeps_old_and_new(console_as):
    case = case_in("dispatched")
    client = console_as("operator")
    html = page_of(client, case.number)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    resp = client.post(f"/console/cases/{case.number}/correct", data={
        "csrf_token": csrf_of(html), "version": version, "category": "suggestion",
        "region": "520100", "citizen_name": "王建国", "citizen_phone": "13985012346",
        "citizen_enterprise": "贵州黔兴建筑有限公司", "content": case.content,
        "note": "来电人更正了电话号码"})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已更正类别、电话" in html
    timeline = html[html.index('id="timeline"'):]
    assert "更正" in timeline and "坐席小王（坐席）" in timeline
    assert "13985012345 → 13985012346" in timeline and "situation → suggestion" in timeline
    db.session.refresh(case)
    assert case.citizen_phone == "+8613985012346" and case.category.code == "suggestion"


def test_operator_corrects_the_topic_from_the_taxonomy_and_a_wrong_one_changes_nothing(
        console_as):
    case = case_in("received")
    client = console_as("operator")
    html = page_of(client, case.number)
    assert '<option value="教育文体/教育收费/乱收费">' in html  # the form offers the taxonomy
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_of(html), "version": version, "content": case.content}
    resp = client.post(f"/console/cases/{case.number}/correct",
                       data={**form, "topic": "教育文体/没有这个主题"})
    assert resp.status_code == 400
    db.session.refresh(case)
    before = case.topic
    assert before != "教育文体/没有这个主题"
    resp = client.post(f"/console/cases/{case.number}/correct",
                       data={**form, "topic": "教育文体/教育收费"})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已更正主题" in html
    timeline = html[html.index('id="timeline"'):]
    assert f"{before or '（空）'} → 教育文体/教育收费" in timeline
    db.session.refresh(case)
    assert (case.topic1, case.topic2, case.topic3) == ("教育文体", "教育收费", None)


def test_a_handler_may_not_correct_and_gets_no_form(console_as):
    case = case_in("accepted")
    client = console_as("handler")
    html = page_of(client, case.number)
    assert "correct" not in offered(html) and 'id="act-correct"' not in html
    resp = client.post(f"/console/cases/{case.number}/correct", data={
        "csrf_token": csrf_of(html), "version": str(case.version), "content": "改掉的内容"})
    assert resp.status_code == 403
    db.session.refresh(case)
    assert case.content == CASE["content"]


def test_correction_api_records_old_and_new_values_and_routing_labels(api, tokens, new_case):
    made = new_case()
    resp = api.patch(f"/cases/{made['number']}", tokens.operator, {
        "version": made["version"], "region": "520102",
        "citizen": {"name": "王建军"}, "note": "区划按来电人所述更正"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["region"] == "520102" and body["citizen"]["name"] == "王建军"
    assert body["citizen"]["phone"] == made["citizen"]["phone"]  # not given: unchanged
    event = body["events"][-1]
    assert event["action"] == "correct" and event["actor"] == "op1"
    assert event["note"] == "区划按来电人所述更正"
    assert event["data"]["changes"] == {"region": {"old": "520100", "new": "520102"},
                                        "citizen_name": {"old": "王建国", "new": "王建军"}}
    labels = event["data"]["labels"]
    assert labels["region"]["now"] == "520102"
    assert set(labels) == {"topic", "category", "region", "department"}
    assert labels["department"]["suggested"] == (made["routing"] or {}).get("department")


def test_correction_api_refuses_stale_versions_handlers_and_bad_input_changing_nothing(
        api, tokens, new_case):
    made = new_case()
    number, version = made["number"], made["version"]
    resp = api.patch(f"/cases/{number}", tokens.supervisor, {"version": version,
                                                            "content": "补充：已拖欠两年零三个月。"})
    assert resp.status_code == 200
    stale = api.patch(f"/cases/{number}", tokens.operator, {"version": version,
                                                           "content": "覆盖别人的改动"})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    current = resp.get_json()["version"]
    cases = [
        (tokens.handler, {"version": current, "content": "承办人改内容"}, {403, 404}),
        (tokens.operator, {"version": current, "region": "贵阳"}, {400}),
        (tokens.operator, {"version": current, "category": "no_such"}, {422}),
        (tokens.operator, {"version": current, "content": "   "}, {400}),
        (tokens.operator, {"region": "520102"}, {400}),  # no version: refused
        (tokens.operator, {"version": current, "citizen": {"openid": "o-x"}}, {400}),
    ]
    for token, body, statuses in cases:
        resp = api.patch(f"/cases/{number}", token, body)
        assert resp.status_code in statuses, (body, resp.get_json())
    after = api.get(f"/cases/{number}", tokens.operator).get_json()
    assert after["version"] == current and after["content"] == "补充：已拖欠两年零三个月。"
    assert api.patch(f"/cases/{number}", tokens.other_handler,
                     {"version": current, "content": "x"}).status_code == 404


def test_a_correction_that_changes_nothing_adds_no_step(api, tokens, new_case):
    made = new_case()
    resp = api.patch(f"/cases/{made['number']}", tokens.operator,
                     {"version": made["version"], "region": made["region"]})
    assert resp.status_code == 200
    assert [e["action"] for e in resp.get_json()["events"]] == [
        e["action"] for e in made["events"]]


def test_the_correction_endpoint_is_in_the_openapi_document(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    patch = spec["paths"]["/cases/{number}"]["patch"]
    ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"version", "category", "region", "citizen", "content", "topic", "note"} == set(
        schema["properties"])
    assert schema["required"] == ["version"]
    assert "/cases/{number}/attachments/{attachment_id}" in spec["paths"]


def form_fields(html: str, action: str) -> set[str]:
    """The names of the fields the page's form for `action` has."""
    block = re.search(rf'<details class="action" id="act-{action}".*?</details>', html,
                      re.DOTALL)
    assert block, f"no form for {action}"
    return set(re.findall(r'name="([a-z_]+)"', block.group(0)))


def test_every_form_of_the_page_takes_a_case_through_its_whole_life(console_as):
    case = case_in("received")
    operator, handler, supervisor = (console_as("operator"), console_as("handler"),
                                     console_as("supervisor"))
    walk = [
        (operator, "dispatch", {"department": "gz-hrss", "kind": "handle", "note": "请尽快办理"},
         "dispatched"),
        (handler, "accept", {}, "accepted"),
        (handler, "reply", {"text": "已协调，月底前支付。"}, "replied"),
        (supervisor, "review", {"approve": "false", "note": "未说明具体支付日期"}, "accepted"),
        (handler, "reply", {"text": "已协调，12月20日前一次付清。"}, "replied"),
        (operator, "review", {"approve": "true", "note": ""}, "reviewed"),
        (supervisor, "instruct", {"text": "请持续跟踪付款情况"}, "reviewed"),
        (operator, "close", {"note": "市民已知晓"}, "closed"),
        (supervisor, "reopen", {"reason": "回访不满意：款项未到账"}, "reopened"),
    ]
    for client, action, data, status in walk:
        html = page_of(client, case.number)
        assert set(data) <= form_fields(html, action), (action, form_fields(html, action))
        resp = post_action(client, case.number, action, data, html=html)
        assert resp.status_code == 302, (action, resp.get_data(as_text=True)[-1500:])
        db.session.refresh(case)
        assert case.status == status, action
    assert case.supervised and case.reply_text == "已协调，12月20日前一次付清。"
    html = page_of(supervisor, case.number)
    timeline = html[html.index('id="timeline"'):]
    for name in ("转办", "签收", "答复", "审核", "批示", "办结", "重办"):
        assert f'<span class="action">{name}</span>' in timeline
    assert "未说明具体支付日期" in timeline and "不同意" in timeline


def test_a_review_sent_back_without_a_note_is_refused_in_chinese(console_as):
    case = case_in("replied")
    resp = post_action(console_as("supervisor"), case.number, "review",
                       {"approve": "false", "note": " "})
    assert resp.status_code == 400
    assert "请写明意见" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "replied"


def test_the_operator_answers_on_the_spot_from_the_page(console_as):
    case = case_in("received")
    client = console_as("operator")
    html = page_of(client, case.number)
    assert "text" in form_fields(html, "answer")
    resp = post_action(client, case.number, "answer",
                       {"text": "已告知来电人向区住建局申请支付，并提供了联系电话。"}, html=html)
    assert resp.status_code == 302
    db.session.refresh(case)
    assert case.status == "answered" and case.kind == "instant"
    assert offered(page_of(client, case.number)) == {"close", "priority", "internal-note", "correct"}
