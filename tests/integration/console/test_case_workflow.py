"""The case page's workflow forms beyond SPEC's table: 改派 (recall) of a case from one
department to another, offered only to whom the lifecycle allows, and what each side sees after."""

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
