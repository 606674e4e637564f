"""The admin's settings pages: departments and contacts, lines and categories, routing rules with
the "try a message" box, calendar years and the audit list. Each form goes through the API's
rules: bad input shows a clear error and changes nothing; non-admins get 403."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import (
    AdminAudit,
    CalendarYear,
    Category,
    Department,
    DepartmentContact,
    Line,
    RoutingRule,
)

from .conftest import post_form, refused, saved

PAGES = ["/console/admin", "/console/admin/departments", "/console/admin/departments/gz-hrss",
         "/console/admin/lines", "/console/admin/rules", "/console/admin/rules/new",
         "/console/admin/calendar?year=2027", "/console/admin/audit"]


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AdminAudit))


@pytest.mark.parametrize("role", ["operator", "supervisor", "handler"])
def test_settings_pages_are_for_admins_only(console_as: Any, role: str) -> None:
    client = console_as(role)
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_settings_pages_send_a_visitor_without_session_to_sign_in(app: Any) -> None:
    for path in PAGES:
        resp = app.test_client().get(path)
        assert resp.status_code == 302 and "/console/login" in resp.headers["Location"], path


def test_every_settings_page_opens_in_chinese_for_the_admin(console_as: Any) -> None:
    client = console_as("admin")
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:2000])
        assert "系统设置" in resp.get_data(as_text=True)


# --- departments and contacts ---------------------------------------------------------------

def test_admin_creates_a_department_and_the_audit_list_names_them(console_as: Any) -> None:
    client = console_as("admin")
    resp = saved(client, "/console/admin/departments", "/console/admin/departments",
                 {"code": "gz-water", "name": "贵州省水利厅", "region": "520000"})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "贵州省水利厅" in page and "部门已创建" in page
    entry = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "department",
                                                         AdminAudit.target == "gz-water")).one()
    assert (entry.actor, entry.via, entry.action) == ("admin", "console", "create")
    assert entry.changes["name"] == {"old": None, "new": "贵州省水利厅"}


@pytest.mark.parametrize("form, field_text", [
    ({"code": "gz-hrss", "name": "重复", "region": "520000"}, "is taken"),
    ({"code": "GZ WATER", "name": "水利厅", "region": "520000"}, "代码"),
    ({"code": "gz-water", "name": "", "region": "520000"}, "名称：不能为空"),
    ({"code": "gz-water", "name": "水利厅", "region": "52"}, "区划"),
])
def test_a_refused_department_says_why_and_changes_nothing(console_as: Any, form: dict,
                                                           field_text: str) -> None:
    client = console_as("admin")
    before = (db.session.scalar(select(func.count()).select_from(Department)), audit_count())
    html = refused(client, "/console/admin/departments", "/console/admin/departments", form)
    assert 'id="form-error"' in html and field_text in html
    assert form["name"] in html or not form["name"]  # what was typed stays in the form
    assert (db.session.scalar(select(func.count()).select_from(Department)),
            audit_count()) == before


def test_admin_renames_and_deactivates_a_department_old_and_new_on_the_audit(
        console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/departments/gz-hrss"
    saved(client, page, page, {"name": "贵州省人力资源和社会保障厅（新）",
                               "region": "520000"})
    saved(client, page, page, {"active": "false"})
    dep = db.session.scalar(select(Department).where(Department.code == "gz-hrss"))
    db.session.refresh(dep)
    assert dep.name.endswith("（新）") and dep.active is False
    changes = [e.changes for e in db.session.scalars(
        select(AdminAudit).where(AdminAudit.target == "gz-hrss", AdminAudit.actor == "admin")
        .order_by(AdminAudit.id))]
    assert changes[0]["name"]["new"].endswith("（新）")
    assert changes[0]["name"]["old"] == "贵州省人力资源和社会保障厅"
    assert changes[1] == {"active": {"old": True, "new": False}}
    html = client.get(page).get_data(as_text=True)
    assert "已停用" in html


def test_a_department_renamed_to_nothing_is_refused(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/departments/gz-hrss"
    before = audit_count()
    html = refused(client, page, page, {"name": "", "region": "5200"})
    assert "区划" in html
    assert audit_count() == before


def test_admin_adds_pauses_and_removes_a_contact(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/departments/gz-hrss"
    saved(client, page, page + "/contacts",
          {"channel": "sms", "address": "139-8501-2345", "name": "张科长"})
    contact = db.session.scalars(select(DepartmentContact)).one()
    assert contact.address == "+8613985012345"  # as the API stores it
    assert post_form(client, page, f"{page}/contacts/{contact.id}/pause", {}).status_code == 302
    db.session.refresh(contact)
    assert contact.active is False
    assert post_form(client, page, f"{page}/contacts/{contact.id}/remove", {}).status_code == 302
    assert db.session.scalars(select(DepartmentContact)).all() == []
    actions = [e.action for e in db.session.scalars(
        select(AdminAudit).where(AdminAudit.kind == "contact", AdminAudit.actor == "admin")
        .order_by(AdminAudit.id))]
    assert actions == ["create", "update", "delete"]


def test_a_contact_that_is_no_phone_number_is_refused(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/departments/gz-hrss"
    html = refused(client, page, page + "/contacts", {"channel": "sms", "address": "值班室"})
    assert 'id="contact-error"' in html and "mobile number" in html and "值班室" in html
    assert db.session.scalars(select(DepartmentContact)).all() == []


def test_an_unknown_department_page_is_not_found(console_as: Any) -> None:
    assert console_as("admin").get("/console/admin/departments/nope").status_code == 404


# --- lines and categories -------------------------------------------------------------------

def test_admin_changes_a_lines_deadline_policy(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/lines"
    saved(client, page, page + "/zhitongche",
          {"name": "省长直通车", "reply_days": "15", "accept_days": "2"})
    line = db.session.scalar(select(Line).where(Line.code == "zhitongche"))
    db.session.refresh(line)
    assert (line.accept_days, line.reply_days) == (2, 15)
    entry = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "line",
                                                         AdminAudit.actor == "admin")).one()
    assert entry.changes["reply_days"] == {"old": 10, "new": 15}


@pytest.mark.parametrize("form, text", [
    ({"reply_days": "十"}, "办理时限：须为整数"),
    ({"reply_days": "0"}, "办理时限：须在 1 到 120 之间"),
    ({"auto_dispatch_threshold": "2"}, "自动派单阈值"),
    ({"phone_number": "+8685186833668"}, "is the number of line"),
])
def test_a_bad_line_policy_is_refused_and_nothing_changes(console_as: Any, form: dict,
                                                          text: str) -> None:
    client = console_as("admin")
    before = audit_count()
    html = refused(client, "/console/admin/lines", "/console/admin/lines/zhitongche", form)
    assert text in html
    line = db.session.scalar(select(Line).where(Line.code == "zhitongche"))
    db.session.refresh(line)
    assert (line.reply_days, line.auto_dispatch_threshold) == (10, 0.8)
    assert audit_count() == before


def test_admin_gives_a_category_its_own_limit_and_clears_it_again(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/lines"
    action = page + "/fupin/categories/hardship"
    assert post_form(client, page, action, {"name": "困难诉求", "reply_days": "5",
                                            "accept_days": "", "remind_days": ""}
                     ).status_code == 302
    cat = db.session.scalar(select(Category).where(Category.code == "hardship"))
    db.session.refresh(cat)
    assert cat.reply_days == 5
    assert post_form(client, page, action, {"name": "困难诉求", "reply_days": ""}
                     ).status_code == 302
    db.session.refresh(cat)
    assert cat.reply_days is None  # the line's 10 days again


def test_admin_adds_a_category_and_a_taken_code_is_refused(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/lines"
    assert post_form(client, page, page + "/fupin/categories",
                     {"code": "employment", "name": "就业帮扶", "reply_days": "7"}
                     ).status_code == 302
    resp = post_form(client, page, page + "/fupin/categories",
                     {"code": "employment", "name": "又一个"})
    assert resp.status_code == 400 and "is taken" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Category).where(
        Category.code == "employment")) == 1


# --- routing rules --------------------------------------------------------------------------

WATER = "我家在观山湖区，小区自来水停了三天，水务公司一直没人管"


def rule_form(**over: str) -> dict[str, str]:
    form = {"line": "", "category": "", "topic1": "", "region_level": "",
            "keywords": "自来水、停水", "department": "gz-housing", "priority": "500",
            "active": "on", "note": "水务", "message": WATER, "message_line": "board",
            "message_region": ""}
    form.update(over)
    return form


def test_trying_a_rule_shows_the_decision_and_saves_nothing(console_as: Any) -> None:
    client = console_as("admin")
    rules_before = db.session.scalar(select(func.count()).select_from(RoutingRule))
    resp = post_form(client, "/console/admin/rules/new", "/console/admin/rules/new",
                     {**rule_form(), "intent": "try"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "这条规则适用并胜出" in html and "自来水" in html
    assert 'id="decision-department"><strong>gz-housing</strong>' in html
    assert "关键词∈{自来水、停水}" in html  # the reasons name the rule's words
    assert db.session.scalar(select(func.count()).select_from(RoutingRule)) == rules_before


def test_trying_a_rule_that_loses_names_the_winner(console_as: Any) -> None:
    client = console_as("admin")
    resp = post_form(client, "/console/admin/rules/new", "/console/admin/rules/new",
                     {**rule_form(priority="-5"), "intent": "try"})
    html = resp.get_data(as_text=True)
    assert "被更优先的规则抢先" in html


def test_saving_a_rule_and_routing_uses_it_at_once(console_as: Any, api: Any,
                                                   tokens: Any) -> None:
    client = console_as("admin")
    saved(client, "/console/admin/rules/new", "/console/admin/rules/new",
          {**rule_form(), "intent": "save"})
    rule = db.session.scalars(select(RoutingRule).where(RoutingRule.note == "水务")).one()
    assert rule.keywords == ["自来水", "停水"] and rule.updated_by == "admin"
    case = api.post("/cases", tokens.operator, {"line": "board", "channel": "web",
                                                "content": WATER}).get_json()
    assert case["routing"]["department"] == "gz-housing"
    assert case["routing"]["rule_id"] == rule.id
    # The list names the department, not only its code.
    listing = client.get("/console/admin/rules").get_data(as_text=True)
    row = listing[listing.index(f'data-rule="{rule.id}"'):]
    row = row[:row.index("</tr>")]
    housing = db.session.scalars(select(Department).where(Department.code == "gz-housing")).one()
    assert housing.name in row and "gz-housing" in row


@pytest.mark.parametrize("over, text", [
    ({"department": "nope"}, "No department"),
    ({"priority": "很高"}, "优先级：须为整数"),
    ({"line": "", "category": "hardship"}, "A category belongs to a line"),
    ({"line": "fupin", "category": "nope"}, "has no category"),
])
def test_a_bad_rule_is_refused_whether_tried_or_saved(console_as: Any, over: dict,
                                                      text: str) -> None:
    client = console_as("admin")
    before = (db.session.scalar(select(func.count()).select_from(RoutingRule)), audit_count())
    for intent in ("try", "save"):
        html = refused(client, "/console/admin/rules/new", "/console/admin/rules/new",
                       {**rule_form(**over), "intent": intent})
        assert text in html
    assert (db.session.scalar(select(func.count()).select_from(RoutingRule)),
            audit_count()) == before


def test_editing_a_rule_tries_it_in_place_of_the_stored_one(console_as: Any) -> None:
    client = console_as("admin")
    rule = RoutingRule(keywords=["自来水"], department="gz-housing", priority=500, active=True)
    db.session.add(rule)
    db.session.commit()
    page = f"/console/admin/rules/{rule.id}"
    resp = post_form(client, page, page, {**rule_form(department="gz-env"), "intent": "try"})
    html = resp.get_data(as_text=True)
    assert 'id="decision-department"><strong>gz-env</strong>' in html
    saved(client, page, page, {**rule_form(department="gz-env"), "intent": "save"})
    entry = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "rule",
                                                         AdminAudit.action == "update")).one()
    assert entry.changes["department"] == {"old": "gz-housing", "new": "gz-env"}
    assert post_form(client, page, page + "/delete", {}).status_code == 302
    assert db.session.get(RoutingRule, rule.id) is None
    deleted = db.session.scalars(select(AdminAudit).where(AdminAudit.action == "delete")).one()
    assert deleted.changes["department"]["old"] == "gz-env"


# --- the calendar ---------------------------------------------------------------------------

def test_admin_sets_a_year_and_the_audit_shows_old_and_new(console_as: Any) -> None:
    client = console_as("admin")
    page = "/console/admin/calendar?year=2031"
    resp = saved(client, page, "/console/admin/calendar/2031",
                 {"holidays": "2031-01-01\n2031-10-01, 2031-10-02",
                  "workdays": "2031-09-28"})
    row = db.session.get(CalendarYear, 2031)
    assert row.holidays == ["2031-01-01", "2031-10-01", "2031-10-02"]
    assert row.workdays == ["2031-09-28"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "管理员设定" in html and "2031-10-02" in html
    entry = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "calendar",
                                                         AdminAudit.actor == "admin")).one()
    assert entry.target == "2031" and entry.changes["workdays"]["new"] == ["2031-09-28"]


@pytest.mark.parametrize("form, text", [
    ({"holidays": "2031-13-01", "workdays": ""}, "不是有效日期"),
    ({"holidays": "2030-10-01", "workdays": ""}, "Dates outside 2031"),
    ({"holidays": "", "workdays": "2031-10-08"}, "weekdays already"),
])
def test_a_bad_year_is_refused_with_what_was_typed(console_as: Any, form: dict,
                                                   text: str) -> None:
    client = console_as("admin")
    before = audit_count()
    html = refused(client, "/console/admin/calendar?year=2031",
                   "/console/admin/calendar/2031", form)
    assert text in html and (form["holidays"] or form["workdays"]) in html
    assert db.session.get(CalendarYear, 2031) is None and audit_count() == before


# --- the audit list -------------------------------------------------------------------------

def test_the_audit_api_lists_changes_for_admins_only(api: Any, tokens: Any) -> None:
    api.post("/departments", tokens.admin, {"code": "gz-water", "name": "贵州省水利厅",
                                            "region": "520000"})
    api.call("PUT", "/calendar/2032", tokens.admin, json={"holidays": ["2032-01-01"],
                                                         "workdays": []})
    body = api.get("/audit?kind=department&actor=admin1", tokens.admin).get_json()
    assert body["total"] == 1
    entry = body["items"][0]
    assert (entry["actor"], entry["via"], entry["target"]) == ("admin1", "api", "gz-water")
    assert entry["at"].endswith("+08:00")
    assert api.get("/audit?kind=calendar&actor=admin1", tokens.admin).get_json()["items"][0]["target"] \
        == "2032"
    assert api.get("/audit", tokens.supervisor).status_code == 403
    assert api.get("/audit?kind=nothing", tokens.admin).status_code == 400


def test_the_audit_never_holds_a_secret(api: Any, tokens: Any) -> None:
    made = api.post("/users", tokens.admin, {"name": "新坐席", "role": "operator",
                                             "password": "Initial-Pass-1"}).get_json()
    api.post("/users/新坐席/password", tokens.admin, {"password": "Another-Pass-2"})
    key = api.post("/api/v1/open311/keys", tokens.admin, {"name": "城市App"}).get_json()["api_key"]
    texts = " ".join(str(e.changes) for e in db.session.scalars(select(AdminAudit)))
    for secret in (made["token"], "Initial-Pass-1", "Another-Pass-2", key):
        assert secret not in texts
    user = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "user",
                                                        AdminAudit.target == "新坐席")
                              .order_by(AdminAudit.id)).all()
    assert user[0].changes["password_hash"] == {"old": None, "new": "（已设置）"}
    assert user[-1].changes["password_hash"] == {"old": "（已设置）", "new": "（已更换）"}


def test_the_audit_page_filters_by_kind(console_as: Any) -> None:
    client = console_as("admin")
    post_form(client, "/console/admin/departments", "/console/admin/departments",
              {"code": "gz-water", "name": "贵州省水利厅", "region": "520000"})
    html = client.get("/console/admin/audit?kind=department&actor=admin").get_data(as_text=True)
    assert 'data-target="gz-water"' in html and "贵州省水利厅" in html and "工作台" in html
    assert 'data-kind="user"' not in html
    assert client.get("/console/admin/audit?kind=bad").status_code == 200  # said on the page


def test_a_rule_leaving_the_case_to_an_operator_keeps_its_empty_department(
        console_as: Any) -> None:
    """The shipped 纪检监察 rule sends no department; editing it on the page keeps it so."""
    client = console_as("admin")
    rule = db.session.scalars(select(RoutingRule).where(RoutingRule.topic1 == "纪检监察")).one()
    page = f"/console/admin/rules/{rule.id}"
    html = client.get(page).get_data(as_text=True)
    assert '<option value="" selected>' in html
    saved(client, page, page, {**rule_form(keywords="", department="",
                                           topic1="纪检监察", priority="100"),
                               "intent": "save"})
    db.session.refresh(rule)
    assert rule.department == ""


def test_a_department_switched_off_gets_no_case_from_the_next_intake(console_as: Any, api: Any,
                                                                    tokens: Any) -> None:
    """Routing sees the change at once (no minute of cases auto-dispatched to a department that
    dispatch refuses)."""
    content = "我在贵阳市云岩区，公司拖欠工资三个月了，劳动监察能不能管一管"
    first = api.post("/cases", tokens.operator, {"line": "board", "channel": "web",
                                                 "content": content}).get_json()
    target = first["routing"]["department"]
    assert target
    client = console_as("admin")
    page = f"/console/admin/departments/{target}"
    assert post_form(client, page, page, {"active": "false"}).status_code == 302
    resp = api.post("/cases", tokens.operator, {"line": "board", "channel": "web",
                                                "content": content})
    assert resp.status_code == 201
    assert resp.get_json()["routing"]["department"] != target


def test_a_line_switched_off_takes_no_new_case(console_as: Any, api: Any, tokens: Any) -> None:
    client = console_as("admin")
    saved(client, "/console/admin/lines", "/console/admin/lines/zhitongche",
          {"active": "false"})
    assert "已停用" in client.get("/console/admin/lines").get_data(as_text=True)
    refused = api.post("/cases", tokens.operator, {"line": "zhitongche", "channel": "phone",
                                                   "content": "企业贷款贴息政策咨询"})
    assert refused.status_code == 422
