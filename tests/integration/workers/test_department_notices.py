"""A department's contacts are told of its cases: kept by an admin under
/api/v1/departments/<code>/contacts, and sent — by real RQ workers through the real Twilio and
WeChat clients to local servers that check what they got — when a case is dispatched to the
department, reminded (催办), escalated (督办) or given a leadership instruction; once each, on the
case's record of messages."""

from __future__ import annotations

import pytest

from .conftest import outbox, relay_and_work, work
from .test_sweep import RECEIVED, at

CLERK_MOBILE = "13908510001"
CLERK_E164 = "+8613908510001"
CLERK_OPENID = "oGZhrss_clerk_0001_Wq7LxVb0aCzE"
CLERK_EMAIL = "zhangkz@hrss.guizhou.gov.cn"
LINE_NUMBER = "+8685186894627"  # 省长直通车


@pytest.fixture
def config_overrides(fake_smtp):
    return {"SMTP_HOST": fake_smtp.host, "SMTP_PORT": fake_smtp.port,
            "SMTP_FROM": "notice@12345.guizhou.gov.cn"}


def add_contact(api, tokens, department: str, **body):
    return api.post(f"/departments/{department}/contacts", tokens.admin, body)


def hrss_contacts(api, tokens) -> None:
    for body in ({"channel": "sms", "address": CLERK_MOBILE, "name": "人社厅值班室"},
                 {"channel": "wechat", "address": CLERK_OPENID, "name": "张科长"}):
        resp = add_contact(api, tokens, "gz-hrss", **body)
        assert resp.status_code == 201, resp.get_json()


def dept_notices(number: str | None = None):
    return [r for r in outbox(number) if r.purpose == "dept-notify"]


def sms_to_clerk(fake_twilio) -> list[str]:
    return [m["body"] for m in fake_twilio.messages if m["to"] == CLERK_E164]


# --- the contacts API --------------------------------------------------------------------------

def test_admin_keeps_a_departments_contacts_and_bad_ones_change_nothing(app, api, tokens):
    resp = add_contact(api, tokens, "gz-hrss", channel="sms", address="139-0851-0001",
                       name="人社厅值班室")
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    assert (made["channel"], made["address"], made["name"], made["active"]) == \
        ("sms", CLERK_E164, "人社厅值班室", True)
    assert add_contact(api, tokens, "gz-hrss", channel="email",
                       address="ZhangKZ@hrss.Guizhou.gov.cn").status_code == 201

    for body, field in (({"channel": "sms", "address": "0851-86833668"}, "address"),
                        ({"channel": "wechat", "address": "不是openid"}, "address"),
                        ({"channel": "email", "address": "zhang@"}, "address"),
                        ({"channel": "fax", "address": "0851-1"}, "channel"),
                        ({"channel": "sms", "address": CLERK_MOBILE, "x": 1}, "x")):
        resp = add_contact(api, tokens, "gz-hrss", **body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert field in resp.get_json()["error"]["fields"]
    again = add_contact(api, tokens, "gz-hrss", channel="sms", address="+86 139 0851 0001")
    assert again.status_code == 409
    assert add_contact(api, tokens, "no-such-dept", channel="sms",
                       address=CLERK_MOBILE).status_code == 404
    assert api.post("/departments/gz-hrss/contacts", tokens.handler,
                    {"channel": "sms", "address": "13908510002"}).status_code == 403

    listed = api.get("/departments/gz-hrss/contacts", tokens.handler).get_json()["items"]
    assert [c["address"] for c in listed] == [CLERK_E164, "zhangkz@hrss.guizhou.gov.cn"]
    assert api.get("/departments/gz-hrss/contacts", tokens.other_handler).status_code == 404

    paused = api.patch(f"/departments/gz-hrss/contacts/{made['id']}", tokens.admin,
                       {"active": False})
    assert paused.status_code == 200 and paused.get_json()["active"] is False
    assert api.patch(f"/departments/gov-520100/contacts/{made['id']}", tokens.admin,
                     {"active": True}).status_code == 404
    assert api.call("DELETE", f"/departments/gz-hrss/contacts/{made['id']}",
                    tokens.admin).status_code == 204
    listed = api.get("/departments/gz-hrss/contacts", tokens.admin).get_json()["items"]
    assert [c["channel"] for c in listed] == ["email"]


def test_the_contacts_api_is_in_the_openapi_document(app, api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/departments/{code}/contacts"])
    assert {"patch", "delete"} <= set(paths["/departments/{code}/contacts/{contact_id}"])
    body = paths["/departments/{code}/contacts"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]


# --- the notices -------------------------------------------------------------------------------

def test_department_contacts_are_told_once_of_a_case_dispatched_to_them(
        new_case, step, app, api, tokens, fake_twilio, fake_wechat):
    hrss_contacts(api, tokens)
    add_contact(api, tokens, "gov-520100", channel="sms", address="13908510999")
    case = new_case()
    number = case["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    relay_and_work(app)

    [sms] = sms_to_clerk(fake_twilio)
    assert sms.startswith("【服务民营企业省长直通车】新工单" + number + "已转贵单位办理")
    assert "前签收" in sms and "前答复" in sms
    assert {m["from"] for m in fake_twilio.messages if m["to"] == CLERK_E164} == {LINE_NUMBER}
    [wechat] = fake_wechat.sent_to(CLERK_OPENID)
    assert wechat["kind"] == "template" and number in wechat["data"]["content"]["value"]
    assert all(m["to"] != "+8613908510999" for m in fake_twilio.messages)

    rows = dept_notices(number)
    assert sorted((r.channel, r.recipient, r.status) for r in rows) == \
        [("sms", CLERK_E164, "sent"), ("wechat", CLERK_OPENID, "sent")]
    # On the case's record with the citizen's messages, for the staff who may see the case.
    listed = api.get(f"/outbox?case={number}", tokens.handler).get_json()["items"]
    assert {(m["purpose"], m["recipient"]) for m in listed} >= \
        {("dept-notify", CLERK_E164), ("dept-notify", CLERK_OPENID)}

    # Returned and sent again: a new dispatch, a new notice; the old one is not repeated.
    step(number, "return", {"reason": "不属于本单位职责"}, as_="handler")
    step(number, "dispatch", {"department": "gz-hrss"})
    relay_and_work(app)
    assert len(sms_to_clerk(fake_twilio)) == 2
    assert len(dept_notices(number)) == 4


def test_a_paused_contact_or_a_department_without_contacts_gets_nothing(
        new_case, step, app, api, tokens, fake_twilio):
    made = add_contact(api, tokens, "gz-hrss", channel="sms", address=CLERK_MOBILE).get_json()
    api.patch(f"/departments/gz-hrss/contacts/{made['id']}", tokens.admin, {"active": False})
    step(new_case()["number"], "dispatch", {"department": "gz-hrss"})
    step(new_case()["number"], "dispatch", {"department": "gov-520100"})
    work(app)
    assert dept_notices() == [] and sms_to_clerk(fake_twilio) == []


def test_reminders_and_escalations_of_the_sweep_reach_the_department_once(
        new_case, step, app, api, tokens, fake_twilio, fake_wechat):
    from workers.sweeps import sweep

    hrss_contacts(api, tokens)
    case = new_case(received_at=RECEIVED)
    number = case["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "accept", as_="handler")
    relay_and_work(app)
    assert len(sms_to_clerk(fake_twilio)) == 1  # the dispatch

    for moment in (at("2026-11-12"), at("2026-11-12", "15:00"), at("2026-11-17"),
                   at("2026-11-18"), at("2026-11-17")):
        sweep(moment)
    relay_and_work(app)

    sms = sms_to_clerk(fake_twilio)
    assert sms[1:] == [
        f"【服务民营企业省长直通车】工单{number} 催办：办理时限 2026-11-16，请抓紧办理并按时答复",
        f"【服务民营企业省长直通车】工单{number} 督办：已超过办理时限 2026-11-16，未答复，转督办",
    ]
    wechat = [m["data"]["content"]["value"] for m in fake_wechat.sent_to(CLERK_OPENID)]
    assert wechat[1:] == sms[1:]
    rows = dept_notices(number)
    assert len(rows) == 6 and {r.status for r in rows} == {"sent"}
    assert {r.case.number for r in rows} == {number}


def test_a_leadership_instruction_is_passed_on_to_the_department(
        new_case, step, app, api, tokens, fake_twilio):
    hrss_contacts(api, tokens)
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "instruct", {"text": "请人社厅主要负责同志亲自过问，五个工作日内报办理结果。"},
         as_="supervisor")
    relay_and_work(app)
    sms = sms_to_clerk(fake_twilio)
    assert len(sms) == 2
    assert f"督办：工单{number}有领导批示" in sms[1] and "五个工作日内报办理结果" in sms[1]


def test_an_instruction_notice_names_the_leader_and_the_feedback_day(
        new_case, step, app, api, tokens, fake_twilio):
    hrss_contacts(api, tokens)
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    case = step(number, "instruct", {"text": "请妥善解决拖欠工程款问题", "leader": "王副省长",
                                     "feedback_by": "2099-12-31"}, as_="supervisor")
    assert case["instruction_due_date"] == "2099-12-31"
    relay_and_work(app)
    sms = sms_to_clerk(fake_twilio)[1]
    assert f"督办：工单{number}有领导批示（王副省长）" in sms
    assert "于12月31日前反馈办理情况" in sms and "请妥善解决拖欠工程款问题" in sms


def test_a_recalled_case_tells_the_old_department_to_stop_and_the_new_one_to_start(
        new_case, step, app, api, tokens, fake_twilio):
    hrss_contacts(api, tokens)
    add_contact(api, tokens, "gov-520100", channel="sms", address="13908510999")
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "accept", as_="handler")
    step(number, "recall", {"department": "gov-520100", "reason": "属贵阳市住建局职责"},
         as_="supervisor")
    relay_and_work(app)

    old = sms_to_clerk(fake_twilio)
    assert len(old) == 2
    assert old[1] == (f"【服务民营企业省长直通车】工单{number}已由中心改派其他单位办理，"
                      "贵单位无需继续办理。")
    [new] = [m["body"] for m in fake_twilio.messages if m["to"] == "+8613908510999"]
    assert new.startswith(f"【服务民营企业省长直通车】工单{number}改派贵单位办理，请于")
    assert "前答复" in new


# --- e-mail ------------------------------------------------------------------------------------

def test_an_email_contact_gets_the_notice_by_smtp_once(new_case, step, app, api, tokens,
                                                        fake_smtp):
    assert add_contact(api, tokens, "gz-hrss", channel="email",
                       address="ZhangKZ@hrss.guizhou.gov.cn").status_code == 201
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    relay_and_work(app)
    relay_and_work(app)

    [mail] = fake_smtp.sent_to(CLERK_EMAIL)
    assert mail.mail_from == "notice@12345.guizhou.gov.cn"
    assert mail.subject.startswith(f"【服务民营企业省长直通车】新工单{number}已转贵单位办理")
    assert "前答复" in mail.text
    [row] = dept_notices(number)
    assert (row.channel, row.status) == ("email", "sent")
    assert mail.message["Message-ID"] == row.provider_id == \
        f"<outbox-{row.id}@12345.guizhou.gov.cn>"


def test_a_refused_address_is_a_dead_letter_and_a_cut_off_send_is_never_repeated(
        new_case, step, app, api, tokens, fake_smtp):
    fake_smtp.refuse("gone@hrss.guizhou.gov.cn")
    for address in ("gone@hrss.guizhou.gov.cn", CLERK_EMAIL):
        assert add_contact(api, tokens, "gz-hrss", channel="email",
                           address=address).status_code == 201
    fake_smtp.drop_next_data()
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    relay_and_work(app)
    relay_and_work(app)

    rows = {r.recipient: r for r in dept_notices(number)}
    assert rows["gone@hrss.guizhou.gov.cn"].status == "dead"
    assert "SMTP 550" in rows["gone@hrss.guizhou.gov.cn"].last_error
    # The connection dropped after the message was handed over: it may have arrived, and SMTP
    # cannot be asked, so staff decide (the dead-letter list) instead of a second copy.
    assert rows[CLERK_EMAIL].status == "unknown"
    assert fake_smtp.sent_to(CLERK_EMAIL) == []
    dead = api.get("/supervision/dead-letters", tokens.operator).get_json()["items"]
    assert {m["recipient"] for m in dead} == {"gone@hrss.guizhou.gov.cn", CLERK_EMAIL}
