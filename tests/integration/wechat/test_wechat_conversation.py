"""The conversation beyond a single case: choosing a line in the menu, help and small talk,
locations, unfollowing, and binding a phone number so that cases logged by phone show up."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from channels.wechat.models import WeChatFollower
from hotline.extensions import db
from hotline.models import Case, OutboxMessage, Survey

PHONE = "13985012345"  # the citizen of conftest.CASE, logged by an operator


def cases() -> list[Case]:
    return list(db.session.scalars(select(Case).order_by(Case.id)))


def follower(openid: str) -> WeChatFollower:
    return db.session.scalar(select(WeChatFollower).where(WeChatFollower.openid == openid))


def test_choosing_zhitongche_in_the_menu_puts_the_next_case_on_that_line(wechat, citizen):
    assert citizen.click("LINE_zhitongche").startswith("您已选择服务民营企业省长直通车")
    reply = citizen.say("我公司在贵阳高新区，申请的技改补贴已经公示三个月了还没有拨付到位。")
    assert "工单号：ZT" in reply and "（服务民营企业省长直通车）" in reply
    assert cases()[0].line.code == "zhitongche"


def test_a_qr_code_for_a_line_sets_it_when_the_citizen_subscribes(wechat, citizen):
    welcome = citizen.send(citizen.sim.event(citizen.openid, "subscribe",
                                             "qrscene_line_zhitongche"))
    assert "欢迎关注" in welcome
    assert follower(citizen.openid).line_code == "zhitongche"


def test_greetings_and_single_characters_get_help_not_a_case(wechat, citizen):
    for text in ("你好", "在吗？", "嗯", "。", "帮助"):
        reply = citizen.say(text)
        assert "直接发送文字、语音或图片" in reply, text
    assert cases() == []


def test_a_rating_with_no_survey_open_is_not_taken_for_a_case(wechat, citizen):
    assert citizen.say("满意") == "您目前没有待评价的工单。如需反映问题，请直接用文字描述。"
    assert cases() == []


def test_my_cases_when_there_are_none(wechat, citizen):
    assert citizen.say("我的").startswith("您还没有提交过工单")
    assert citizen.click("MY_CASES").startswith("您还没有提交过工单")


def test_menu_explains_how_to_query(wechat, citizen):
    assert "请发送工单号查询办理进度" in citizen.click("QUERY")
    assert "请发送工单号查询办理进度" in citizen.say("查询")


def test_a_case_number_typed_loosely_still_finds_the_case(wechat, citizen):
    number = re.search(r"FP\d{8}-\d{4}", citizen.say(
        "我们组的饮水工程水管爆了，已经停水一个星期。")).group(0)
    loose = number.lower().replace("-", "－")
    assert f"工单 {number}" in citizen.say(f"查询：{loose}")
    assert f"工单 {number}" in citizen.say(f"  {number.replace('-', '')} ")


def test_a_location_adds_to_the_case_being_written_or_asks_for_words_first(wechat, citizen):
    alone = citizen.send(citizen.sim.location(citizen.openid, "26.87", "104.28", "威宁县迤那镇"))
    assert "请先用文字描述" in alone and cases() == []
    number = re.search(r"FP\d{8}-\d{4}", citizen.say(
        "村口到镇上的路上有一段塌方，已经压坏了一辆三轮车。")).group(0)
    reply = citizen.send(citizen.sim.location(citizen.openid, "26.87", "104.28", "威宁县迤那镇"))
    assert reply == f"位置（威宁县迤那镇）已补充到工单 {number}。"
    assert "[位置] 威宁县迤那镇" in cases()[0].content


def test_unfollowing_is_recorded_and_ends_the_case_being_written(wechat, citizen):
    citizen.say("村口到镇上的路上有一段塌方，已经压坏了一辆三轮车。")
    assert citizen.send(citizen.sim.event(citizen.openid, "unsubscribe")) == ""
    row = follower(citizen.openid)
    assert not row.subscribed and row.unsubscribed_at and row.draft_case_id is None
    citizen.subscribe()
    assert follower(citizen.openid).subscribed


# -- phone binding ----------------------------------------------------------------------------


def sent_code(phone: str) -> str:
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.purpose == "verify", OutboxMessage.recipient == f"+86{phone}")
        .order_by(OutboxMessage.id.desc()))
    assert message is not None and message.channel == "sms"
    return re.search(r"验证码为 (\d{6})", message.text).group(1)


def test_binding_a_phone_shows_the_cases_logged_for_it_by_phone(wechat, citizen, new_case):
    phone_case = new_case()["number"]
    assert "未查询到" in citizen.say(phone_case)

    reply = citizen.say(f"绑定 {PHONE}")
    assert "139****2345" in reply and "验证码" in reply
    code = sent_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "验证码不正确" in citizen.say(f"验证码 {wrong}")
    assert citizen.say(code).startswith("手机号 139****2345 已绑定")

    assert f"工单 {phone_case}（服务民营企业省长直通车）" in citizen.say(phone_case)
    assert phone_case in citizen.say("我的")
    assert "已解除手机号绑定" in citizen.say("解绑")
    assert "未查询到" in citizen.say(phone_case)


def test_a_bound_citizen_can_answer_the_survey_of_a_case_logged_by_phone(wechat, citizen,
                                                                          new_case):
    number = new_case()["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    db.session.add(Survey(case_id=case.id, round=1, channel="sms", recipient=PHONE))
    db.session.commit()
    citizen.say(f"绑定{PHONE}")
    citizen.say(f"验证码：{sent_code(PHONE)}")
    assert citizen.say("2").startswith(f"感谢您的评价！工单 {number}：基本满意")
    assert db.session.scalar(select(Survey.rating)) == "basically_satisfied"


def test_codes_cannot_be_requested_over_and_over(wechat, citizen):
    citizen.say(f"绑定 {PHONE}")
    assert "秒后再试" in citizen.say(f"绑定 {PHONE}")
    codes = select(OutboxMessage).where(OutboxMessage.channel == "sms")
    assert len(db.session.scalars(codes).all()) == 1
    sms = db.session.scalar(codes)
    assert (sms.channel, sms.purpose, sms.payload["from_number"]) == (
        "sms", "verify", "+8685186833668")  # from the citizen's line, 扶贫专线


def test_five_wrong_codes_void_the_code(wechat, citizen):
    citizen.say(f"绑定 {PHONE}")
    code = sent_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert "验证码不正确" in citizen.say(f"验证码 {wrong}")
    assert "验证码不正确" in citizen.say(f"验证码 {code}")
    assert follower(citizen.openid).phone is None


def test_a_number_that_is_not_a_mobile_gets_the_instructions(wechat, citizen):
    assert "请发送“绑定 11位手机号”" in citizen.say("绑定 0851-86833668")
    assert "请发送“绑定 11位手机号”" in citizen.click("BIND")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.channel == "sms")) == 0
