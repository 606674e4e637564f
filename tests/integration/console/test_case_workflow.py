"""The case page's workflow forms beyond the main way through (docs/lifecycle.md): 改派
(recall) of a case from one department to another, offered only to whom the lifecycle allows,
and what each side sees after."""

from __future__ import annotations

from hotline.extensions import db

from .test_case_page import case_in, offered, page_of, post_action


def test_supervisor_recalls_a_case_and_sends_it_to_another_department(console_as):
    case = case_in("accepted")
    client = console_as("supervisor")
    html = page_of(client, case.number)
    assert "recall" in offered(html)
    form = html[html.index('id="act-recall"'):]
    form = form[:form.index("</details>")]
    # Every other active department is offered; the one holding the case is not.
    assert 'value="gov-520100"' in form and 'value="gz-hrss"' not in form

    resp = post_action(client, case.number, "recall",
                       {"department": "gov-520100", "reason": "属贵阳市职责，错派人社厅"},
                       html=html)
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "改派已完成" in html
    assert 'id="case-status">已转办' in html and 'id="case-department">贵阳市人民政府' in html
    timeline = html[html.index('id="timeline"'):]
    assert "改派" in timeline and "原承办单位" in timeline and "属贵阳市职责，错派人社厅" in timeline

    old = console_as("handler")
    assert old.get(f"/console/cases/{case.number}").status_code == 404
    assert case.number not in old.get("/console/department").get_data(as_text=True)
    new = console_as("other_handler")
    assert case.number in new.get("/console/department").get_data(as_text=True)
    assert "accept" in offered(page_of(new, case.number))


def test_a_recall_without_a_reason_is_refused_in_chinese_and_changes_nothing(console_as):
    case = case_in("dispatched")
    client = console_as("operator")
    resp = post_action(client, case.number, "recall", {"department": "gov-520100"})
    assert resp.status_code == 400
    assert "请填写理由" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.department_code == "gz-hrss" and case.status == "dispatched"


def test_departments_are_not_offered_recall(console_as):
    case = case_in("accepted")
    assert "recall" not in offered(page_of(console_as("handler"), case.number))


def test_urgent_cases_are_marked_and_come_first_on_the_department_desk(console_as, staff):
    first = case_in("dispatched")
    urgent = case_in("dispatched")
    client = console_as("operator")
    resp = post_action(client, urgent.number, "priority", {"priority": "urgent"})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="case-urgent">紧急件' in html and 'id="case-priority">紧急件' in html

    desk = console_as("handler").get("/console/department").get_data(as_text=True)
    assert desk.index(urgent.number) < desk.index(first.number)
    row = desk[desk.index(f'data-number="{urgent.number}"'):]
    assert '<span class="tag urgent">紧急</span>' in row[:row.index("</tr>")]
    search = client.get("/console/cases?priority=urgent").get_data(as_text=True)
    assert urgent.number in search and first.number not in search
    assert 'name="priority" value="urgent" checked' in search
    assert '<span class="tag urgent">紧急</span>' in search


def test_a_handler_assigns_a_case_and_the_desk_shows_only_mine_on_request(console_as, staff):
    from .conftest import make_staff

    make_staff("人社小张", "handler", "gz-hrss")
    mine = case_in("accepted")
    theirs = case_in("accepted")
    client = console_as("handler")
    html = page_of(client, mine.number)
    options = html[html.index('id="assign-handler"'):]
    options = options[:options.index("</select>")]
    assert "人社小张" in options and "人社承办（我）" in options and "贵阳承办" not in options
    assert post_action(client, mine.number, "assign", {"handler": "人社承办"},
                       html=html).status_code == 302
    assert post_action(client, theirs.number, "assign",
                       {"handler": "人社小张"}).status_code == 302
    html = page_of(client, mine.number)
    assert 'id="case-assignee">人社承办' in html

    everything = client.get("/console/department").get_data(as_text=True)
    assert mine.number in everything and theirs.number in everything
    assert "只看我的" in everything
    only = client.get("/console/department?mine=1").get_data(as_text=True)
    assert mine.number in only and theirs.number not in only
    assert "承办人：人社承办" in only
    feed = client.get("/console/department/feed?mine=1").get_json()
    assert [r["number"] for r in feed["rows"]] == [mine.number]


def test_an_internal_note_is_on_the_staff_timeline_and_not_on_the_citizens_page(console_as,
                                                                                 app):
    case = case_in("accepted")
    client = console_as("handler")
    secret = "来电人是区住建局前员工，回访时注意回避"
    assert post_action(client, case.number, "internal-note", {"text": secret}).status_code == 302
    for role in ("handler", "operator", "supervisor"):
        timeline = page_of(console_as(role), case.number)
        timeline = timeline[timeline.index('id="timeline"'):]
        assert "内部备注（仅工作人员可见）" in timeline and secret in timeline
    public = app.test_client().get(f"/api/v1/public/cases/{case.number}?phone_tail=2345")
    assert public.status_code == 200 and secret not in public.get_data(as_text=True)


def test_an_interim_reply_from_the_case_page_goes_to_the_citizen(console_as):
    case = case_in("accepted")
    client = console_as("handler")
    words = "已约谈区住建局，正在核对合同金额，下周给出付款计划。"
    resp = post_action(client, case.number, "interim-reply", {"text": words})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    messages = html[html.index('id="messages"'):]
    assert "阶段性答复" in messages and words in messages
    assert 'id="case-status">已签收' in html


def test_an_instruction_with_its_leader_and_the_departments_feedback(console_as):
    case = case_in("accepted")
    supervisor = console_as("supervisor")
    resp = post_action(supervisor, case.number, "instruct",
                       {"text": "请尽快协调解决", "leader": "王副省长", "feedback_days": "3"})
    assert resp.status_code == 302
    html = supervisor.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="case-instruction-due"' in html
    timeline = html[html.index('id="timeline"'):]
    assert "批示领导" in timeline and "王副省长" in timeline and "反馈期限" in timeline

    bad = post_action(supervisor, case.number, "instruct",
                      {"text": "再批示", "feedback_days": "99"})
    assert bad.status_code == 400 and "反馈期限须为 1 到 30 个工作日" in bad.get_data(as_text=True)

    handler = console_as("handler")
    html = page_of(handler, case.number)
    assert "instruction-feedback" in offered(html)
    resp = post_action(handler, case.number, "instruction-feedback",
                       {"text": "已会同贵阳市制定付款计划"}, html=html)
    assert resp.status_code == 302
    html = handler.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="case-instruction-due"' not in html and "instruction-feedback" not in offered(html)
    assert "按期反馈" in html[html.index('id="timeline"'):]


def test_the_operator_marks_a_call_urgent_at_intake(console_as):
    from sqlalchemy import select

    from hotline.models import Case

    from .test_desk import file

    client = console_as("operator")
    assert 'id="urgent"' in client.get("/console/desk").get_data(as_text=True)
    assert file(client, urgent="on").status_code == 302
    assert file(client).status_code == 302
    assert [c.priority for c in db.session.scalars(select(Case).order_by(Case.id))] == [
        "urgent", "normal"]


def test_the_supervisors_instruction_list_shows_the_leader_and_the_feedback_day(console_as):
    import datetime as dt

    from .test_supervision_pages import post_form, text_of, version_of

    late = case_in("accepted")
    waiting = case_in("accepted")
    answered = case_in("accepted")
    sup = console_as("supervisor")
    for case, leader in ((late, "王副省长"), (waiting, "李秘书长"), (answered, None)):
        body = {"text": "请三日内反馈办理结果", "feedback_days": "3",
                "version": version_of(case.number)}
        if leader:
            body["leader"] = leader
        resp = post_form(sup, "/console/supervision/instructed",
                         f"/console/supervision/cases/{case.number}/instruct", body)
        assert f"{case.number}：批示已记录。" in text_of(resp)
    db.session.refresh(late)
    late.instruction_due_date = dt.date(2026, 11, 2)  # as if given weeks ago
    db.session.commit()
    handler = console_as("handler")
    assert post_action(handler, answered.number, "instruction-feedback",
                       {"text": "已反馈"}).status_code == 302

    html = text_of(sup.get("/console/supervision/instructed"))
    rows = {c.number: html[html.index(f'id="row-{c.number}"'):] for c in (late, waiting, answered)}
    rows = {n: r[:r.index("</tr>")] for n, r in rows.items()}
    assert "王副省长" in rows[late.number] and "反馈逾期" in rows[late.number]
    assert "反馈期限 2026-11-02" in rows[late.number]
    assert "李秘书长" in rows[waiting.number] and "反馈逾期" not in rows[waiting.number]
    assert "承办单位已反馈" in rows[answered.number]
    # Awaited feedback first, the most overdue first.
    assert html.index(late.number) < html.index(waiting.number) < html.index(answered.number)
