"""The department's desk (承办工作台): a clerk's queue soonest deadline first with its tabs and
deadline marks, signing for, returning and asking for more time from a queue row (through the
same rules as the API), the department's own figures, and the feed the open page polls."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import update

from hotline.domain.deadlines import PROVINCE_TZ, end_of_day, local_date
from hotline.extensions import db
from hotline.models import Case, Line
from hotline.services import work_calendar

from .conftest import csrf_of


@pytest.fixture(autouse=True)
def _no_auto_dispatch(app):
    # Routing would dispatch confident cases at intake; these tests send each case themselves.
    db.session.execute(update(Line).values(auto_dispatch_threshold=2.0))
    db.session.commit()


def days_ago(n: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def dispatched(new_case, api, tokens):
    """dispatched(department="gz-hrss", **case fields) -> number of a case sent there."""

    def make(department: str = "gz-hrss", **overrides) -> str:
        number = new_case(**overrides)["number"]
        resp = api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": department})
        assert resp.status_code == 200, resp.get_json()
        return number

    return make


def set_due(number: str, day: dt.date) -> None:
    db.session.execute(update(Case).where(Case.number == number)
                       .values(due_date=day, due_at=end_of_day(day)))
    db.session.commit()


def queue_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-number="([^"]+)"', html)


def row_of(html: str, number: str) -> str:
    match = re.search(rf'<tr data-number="{re.escape(number)}".*?</tr>', html, re.DOTALL)
    assert match, f"{number} is not on the desk"
    return match.group(0)


def case_json(api, tokens, number: str) -> dict:
    return api.get(f"/cases/{number}", tokens.supervisor).get_json()


# --- the queue -------------------------------------------------------------------------------

def test_clerk_lands_on_the_departments_queue_soonest_deadline_first(
        app, console_as, dispatched):
    late = dispatched(received_at=days_ago(30), content="三十天前反映：社保卡补办一直没有办好，请尽快处理。")
    fresh = dispatched(content="今天反映：失业保险金申领进度查询。")
    middle = dispatched(received_at=days_ago(7), content="一周前反映：养老保险关系转移接续。")
    elsewhere = dispatched("gov-520100", content="贵阳市的路灯不亮，请修复。")

    client = console_as("handler")
    resp = client.get("/console/")
    assert resp.headers["Location"] == "/console/department"
    html = client.get("/console/department").get_data(as_text=True)
    assert "承办工作台" in html and "贵州省人力资源和社会保障厅" in html
    assert queue_numbers(html) == [late, middle, fresh]
    assert elsewhere not in html
    assert 'class="due-overdue overdue"' in row_of(html, late)
    assert "已逾期" in row_of(html, late)
    assert "已逾期" not in row_of(html, fresh)


def test_due_today_and_within_two_working_days_are_marked_by_the_working_day_calendar(
        app, console_as, dispatched):
    from hotline import department_desk as desk

    # Friday 4 December 2026: two working days on is Tuesday the 8th, though four days away.
    friday = dt.datetime(2026, 12, 4, 10, 0, tzinfo=PROVINCE_TZ)
    soon_until = desk.due_soon_until(local_date(friday))
    assert soon_until == dt.date(2026, 12, 8)

    class Due:
        status = "accepted"
        due_date: dt.date
        due_at: dt.datetime

        def __init__(self, day: dt.date):
            self.due_date, self.due_at = day, end_of_day(day)

    assert desk.due_state(Due(dt.date(2026, 12, 4)), friday, soon_until) == "today"
    assert desk.due_state(Due(dt.date(2026, 12, 8)), friday, soon_until) == "soon"
    assert desk.due_state(Due(dt.date(2026, 12, 9)), friday, soon_until) is None
    assert desk.due_state(Due(dt.date(2026, 12, 3)), friday, soon_until) == "overdue"

    # And on the page, with today's calendar.
    today = local_date(dt.datetime.now(dt.UTC))
    calendar = work_calendar()
    due_today, due_soon, later = dispatched(), dispatched(), dispatched()
    set_due(due_today, today)
    set_due(due_soon, calendar.add_working_days(today, 2).date)
    set_due(later, calendar.add_working_days(today, 3).date)
    html = console_as("handler").get("/console/department").get_data(as_text=True)
    assert "今日到期" in row_of(html, due_today)
    assert "即将到期" in row_of(html, due_soon)
    assert "到期" not in row_of(html, later).split('class="nowrap deadline"')[1].split("</td>")[0]
    assert queue_numbers(html) == [due_today, due_soon, later]


def test_tabs_hold_cases_waiting_to_be_signed_for_in_hand_answered_and_sent_back(
        app, api, tokens, console_as, dispatched):
    waiting = dispatched(content="待签收的工单：医保报销。")
    in_hand = dispatched(content="办理中的工单：工伤认定。")
    answered = dispatched(content="已答复的工单：劳动仲裁。")
    rejected = dispatched(content="被退回重办的工单：拖欠工资。")
    for number in (in_hand, answered, rejected):
        assert api.post(f"/cases/{number}/accept", tokens.handler).status_code == 200
    for number in (answered, rejected):
        resp = api.post(f"/cases/{number}/reply", tokens.handler, {"text": "已核实并答复来电人。"})
        assert resp.status_code == 200
    resp = api.post(f"/cases/{rejected}/review", tokens.supervisor,
                    {"approve": False, "note": "答复未说明欠薪何时支付，请补充。"})
    assert resp.status_code == 200

    client = console_as("handler")
    tabs = {tab: queue_numbers(client.get(f"/console/department?tab={tab}")
                               .get_data(as_text=True))
            for tab in ("all", "dispatched", "accepted", "replied", "redo")}
    assert set(tabs["all"]) == {waiting, in_hand, answered, rejected}
    assert tabs["dispatched"] == [waiting]
    assert set(tabs["accepted"]) == {in_hand, rejected}
    assert tabs["replied"] == [answered]
    assert tabs["redo"] == [rejected]
    html = client.get("/console/department").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {"all": "4", "dispatched": "1", "accepted": "2", "replied": "1",
                      "redo": "1", "cohandling": "0", "overdue": "0"}
    assert "退回重办" in row_of(html, rejected)


def test_reminded_escalated_and_instructed_cases_are_marked(
        app, api, tokens, console_as, dispatched):
    from workers.sweeps import sweep

    overdue = dispatched(received_at=days_ago(30))
    assert api.post(f"/cases/{overdue}/accept", tokens.handler).status_code == 200
    soon = dispatched()
    assert api.post(f"/cases/{soon}/accept", tokens.handler).status_code == 200
    today = local_date(dt.datetime.now(dt.UTC))
    set_due(soon, work_calendar().add_working_days(today, 1).date)
    instructed = dispatched()
    resp = api.post(f"/cases/{instructed}/instruct", tokens.supervisor,
                    {"text": "请人社厅主要负责同志亲自督办，三日内报结果。"})
    assert resp.status_code == 200
    plain = dispatched()
    sweep()

    html = console_as("handler").get("/console/department").get_data(as_text=True)
    assert "督办" in row_of(html, overdue) and "催办" not in row_of(html, overdue)
    assert "催办" in row_of(html, soon) and "督办" not in row_of(html, soon)
    assert "督办" in row_of(html, instructed)
    assert "督办" not in row_of(html, plain) and "催办" not in row_of(html, plain)


# --- acting from the queue -------------------------------------------------------------------

def sign_for_form(html: str, number: str) -> dict[str, str]:
    row = row_of(html, number)
    form = re.search(r'<form method="post" action="([^"]+/accept)".*?</form>', row, re.DOTALL)
    assert form, f"no sign-for button on {number}"
    version = re.search(r'name="version" value="(\d+)"', form.group(0)).group(1)
    return {"action": form.group(1), "csrf_token": csrf_of(form.group(0)), "version": version}


def test_clerk_signs_for_a_case_in_one_click_from_the_queue(app, api, tokens, console_as,
                                                             dispatched):
    number = dispatched()
    client = console_as("handler")
    form = sign_for_form(client.get("/console/department").get_data(as_text=True), number)
    resp = client.post(form.pop("action"), data=form)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/console/department")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"{number} 已签收" in page
    assert "签收</button>" not in row_of(page, number)
    case = case_json(api, tokens, number)
    assert case["status"] == "accepted"
    assert [(e["action"], e["actor"]) for e in case["events"]][-1] == ("accept", "人社承办")


def test_signing_for_a_case_someone_changed_meanwhile_changes_nothing(
        app, api, tokens, console_as, dispatched):
    number = dispatched()
    client = console_as("handler")
    form = sign_for_form(client.get("/console/department").get_data(as_text=True), number)
    # A colleague signs for it through the API while this page is open.
    assert api.post(f"/cases/{number}/accept", tokens.handler).status_code == 200
    before = case_json(api, tokens, number)
    resp = client.post(form.pop("action"), data=form, follow_redirects=True)
    assert "已被他人更改" in resp.get_data(as_text=True)
    assert case_json(api, tokens, number) == before


def test_a_sign_for_without_its_csrf_token_or_for_another_department_changes_nothing(
        app, api, tokens, console_as, dispatched):
    mine, theirs = dispatched(), dispatched("gov-520100")
    client = console_as("handler")
    form = sign_for_form(client.get("/console/department").get_data(as_text=True), mine)
    action = form.pop("action")
    resp = client.post(action, data={"version": form["version"]})
    assert resp.status_code == 400
    resp = client.post(action.replace(mine, theirs), data=form)
    assert resp.status_code == 404 and "没有找到" in resp.get_data(as_text=True)
    assert case_json(api, tokens, mine)["status"] == "dispatched"
    assert case_json(api, tokens, theirs)["status"] == "dispatched"


def test_clerk_returns_a_case_with_a_reason_and_asks_for_more_time_from_the_queue(
        app, api, tokens, console_as, dispatched):
    wrong, slow = dispatched(), dispatched()
    assert api.post(f"/cases/{slow}/accept", tokens.handler).status_code == 200
    client = console_as("handler")
    html = client.get("/console/department").get_data(as_text=True)
    token = csrf_of(html)
    url = f"/console/department/cases/{wrong}/return"

    resp = client.post(url, data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert "请写明理由" in resp.get_data(as_text=True)
    assert case_json(api, tokens, wrong)["status"] == "dispatched"

    resp = client.post(url, data={"csrf_token": token, "reason": "属于贵阳市人民政府职责，建议转贵阳市办理。"},
                       follow_redirects=True)
    assert f"{wrong} 已退回" in resp.get_data(as_text=True)
    case = case_json(api, tokens, wrong)
    assert case["status"] == "returned"
    assert case["events"][-1]["action"] == "return"
    assert wrong not in queue_numbers(client.get("/console/department").get_data(as_text=True))

    url = f"/console/department/cases/{slow}/extension"
    resp = client.post(url, data={"csrf_token": token, "working_days": "九十",
                                  "reason": "需要外省协查"}, follow_redirects=True)
    assert "1 至 30 个工作日" in resp.get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": token, "working_days": "5",
                                  "reason": "需要外省社保机构协查参保记录。"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert f"{slow} 延期申请已提交" in page and "延期待批 5 天" in row_of(page, slow)
    assert "申请延期" not in row_of(page, slow)  # one request at a time
    assert case_json(api, tokens, slow)["events"][-1]["action"] == "extension"


def test_a_case_in_hand_links_to_the_case_page_for_the_reply(app, api, tokens, console_as,
                                                             dispatched):
    number = dispatched()
    assert api.post(f"/cases/{number}/accept", tokens.handler).status_code == 200
    html = console_as("handler").get("/console/department").get_data(as_text=True)
    assert f'href="/console/cases/{number}#reply"' in row_of(html, number)


# --- figures ----------------------------------------------------------------------------------

def test_the_desk_shows_the_departments_own_on_time_rate_overdue_and_points(
        app, api, tokens, console_as, dispatched):
    from workers.sweeps import sweep

    on_time = dispatched()
    assert api.post(f"/cases/{on_time}/accept", tokens.handler).status_code == 200
    assert api.post(f"/cases/{on_time}/reply", tokens.handler,
                    {"text": "已为来电人办理社保卡补办。"}).status_code == 200
    late = dispatched(received_at=days_ago(30))
    assert api.post(f"/cases/{late}/accept", tokens.handler).status_code == 200
    # Points are booked on the day of the missed deadline: yesterday, this month's (but on the
    # 1st of a month, last month's).
    today = local_date(dt.datetime.now(dt.UTC))
    set_due(late, today - dt.timedelta(days=1))
    dispatched("gov-520100", received_at=days_ago(30))  # another department's lateness
    sweep()

    html = console_as("handler").get("/console/department").get_data(as_text=True)
    month = local_date(dt.datetime.now(dt.UTC)).strftime("%Y-%m")
    stats = api.get(f"/stats/summary?period={month}&department=gz-hrss",
                    tokens.supervisor).get_json()
    [mine] = [d for d in stats["departments"] if d["code"] == "gz-hrss"]
    figure = re.search(r'id="fig-on-time">([^<]+)<', html).group(1)
    assert figure == f"{mine['on_time_rate']:.2f}%" == "100.00%"
    assert re.search(r'id="fig-overdue"[^>]*>(\d+)<', html).group(1) == "1"
    points = int(re.search(r'id="fig-points"[^>]*>(-?\d+)<', html).group(1))
    assert points == mine["points"]
    assert points < 0 or today.day == 1


# --- the feed the open desk polls -------------------------------------------------------------

def test_the_feed_brings_a_newly_dispatched_case_with_its_sign_for_form_and_counts(
        app, console_as, dispatched):
    client = console_as("handler")
    assert client.get("/console/department/feed").get_json()["rows"] == []
    number = dispatched(content="新来的工单：农民工工伤保险待遇。")
    dispatched("gov-520100")
    data = client.get("/console/department/feed").get_json()
    assert [r["number"] for r in data["rows"]] == [number]
    assert data["counts"]["dispatched"] == 1 and data["counts"]["all"] == 1
    assert f"/console/department/cases/{number}/accept" in data["rows"][0]["html"]
    assert "农民工工伤保险待遇" in data["rows"][0]["html"]


def test_polling_the_feed_does_not_keep_an_idle_session_alive(app, console_as):
    client = console_as("handler")
    app.config["CONSOLE_IDLE_MINUTES"] = 1
    with client.session_transaction() as session:
        session["staff"] = dict(session["staff"], seen=int(time.time()) - 50)
    assert client.get("/console/department/feed").status_code == 200
    with client.session_transaction() as session:
        # 70 s without the clerk doing anything, only the page polling.
        session["staff"] = dict(session["staff"], seen=session["staff"]["seen"] - 20)
    resp = client.get("/console/department/feed")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_a_supervisor_opens_any_departments_desk_but_cannot_sign_for_it(
        app, console_as, dispatched):
    number = dispatched()
    client = console_as("supervisor")
    assert "查看哪个单位的工作台" in client.get("/console/department").get_data(as_text=True)
    html = client.get("/console/department?department=gz-hrss").get_data(as_text=True)
    assert queue_numbers(html) == [number]
    assert "签收</button>" not in html
    assert client.get("/console/department?department=nope").status_code == 404
