"""The whole life of a case told through WeChat, in safe mode (encrypted both ways): a citizen
subscribes, writes, gets a number, adds to the case, follows it while staff handle it, sees the
reviewed answer and answers the survey."""

from __future__ import annotations

from sqlalchemy import select

from channels.wechat.models import WeChatFollower, WeChatInbound
from hotline.extensions import db
from hotline.models import Attachment, Case, Survey
from hotline.surveys import open_survey_for

from .conftest import handle_as_staff, number_in

FIRST = ("我是威宁县迤那镇的村民，家里两个老人常年生病，去年申请了低保，材料都交到村委会了，"
         "到现在半年多还没有消息，想问问什么时候能批下来。")
SECOND = "村委会的电话一直打不通，镇上民政办说要等县里审核。"


def test_citizen_writes_follows_and_rates_a_case_entirely_through_wechat(
        wechat, citizen, api, tokens):
    welcome = citizen.subscribe()
    assert "欢迎关注" in welcome and "工单号" in welcome and "我的" in welcome

    ack = citizen.say(FIRST)
    number = number_in(ack)
    assert number.startswith("FP") and "已受理" in ack and "办理时限" in ack

    # More messages within a few minutes add to the same case instead of opening others.
    assert citizen.say(SECOND) == f"已补充到工单 {number}。"
    voice = citizen.send(citizen.sim.voice(citizen.openid, "VoiceMediaId_7Hk2",
                                           recognition="户主叫王明富，身份证已经交了复印件"))
    assert f"语音已补充到工单 {number}" in voice and "户主叫王明富" in voice
    picture = citizen.send(citizen.sim.image(citizen.openid, "http://mmbiz.qpic.cn/low-bao.jpg",
                                             "ImageMediaId_3Lq9"))
    assert picture == f"图片已补充到工单 {number}。"

    cases = db.session.scalars(select(Case).where(Case.citizen_openid == citizen.openid)).all()
    assert [c.number for c in cases] == [number]
    case = cases[0]
    assert case.channel == "wechat" and case.line.code == "fupin"
    staff_view = api.get(f"/cases/{number}", tokens.operator).get_json()
    assert FIRST in staff_view["content"]
    assert {(a.kind, a.media_id) for a in db.session.scalars(
        select(Attachment).where(Attachment.case_id == case.id))} == {
        ("voice", "VoiceMediaId_7Hk2"), ("image", "ImageMediaId_3Lq9")}
    assert [e["action"] for e in staff_view["events"]].count("supplement") == 3

    status = citizen.say(number)
    assert status.startswith(f"工单 {number}（扶贫专线）")
    assert "当前状态：" in status and "办理时限：" in status

    handle_as_staff(api, tokens, number)
    reviewed = citizen.say(f"查询 {number}")
    assert "当前状态：已答复" in reviewed
    assert "答复内容：经核实，您家的低保申请已由威宁县民政局审核通过" in reviewed
    assert "承办单位：" in reviewed and "待分派" not in reviewed

    assert api.post(f"/cases/{number}/close", tokens.operator, {}).status_code == 200
    assert "当前状态：已办结" in citizen.say(number.lower())

    # The survey (回访) is opened by the workers at closing; the citizen answers in the chat.
    if open_survey_for(openid=citizen.openid) is None:  # without the workers' follow-up hook
        db.session.add(Survey(case_id=case.id, round=1, channel="wechat",
                              recipient=citizen.openid))
        db.session.commit()
    thanks = citizen.say("3 钱还没到账，希望再核实一下")
    assert thanks.startswith(f"感谢您的评价！工单 {number}：不满意")
    assert "转交督办人员" in thanks
    survey = db.session.scalar(select(Survey).where(Survey.case_id == case.id))
    assert (survey.rating, survey.comment, survey.answer_channel) == (
        "unsatisfied", "钱还没到账，希望再核实一下", "wechat")
    events = api.get(f"/cases/{number}", tokens.supervisor).get_json()["events"]
    assert events[-1]["action"] == "survey"

    mine = citizen.say("我的")
    assert number in mine and "已办结" in mine

    # What the account needs for later messages: the 48-hour window starts at the last one.
    follower = db.session.scalar(select(WeChatFollower).where(
        WeChatFollower.openid == citizen.openid))
    assert follower.subscribed and follower.last_inbound_at is not None
    assert db.session.query(WeChatInbound).filter_by(openid=citizen.openid).count() == 10


def test_a_message_after_the_few_minutes_opens_a_new_case(wechat, citizen):
    first = number_in(citizen.say("我们村的通组公路塌方了，车过不去，请尽快派人修。"))
    follower = db.session.scalar(select(WeChatFollower).where(
        WeChatFollower.openid == citizen.openid))
    follower.draft_until = follower.draft_until.replace(year=2020)  # the minutes have passed
    db.session.commit()
    second = number_in(citizen.say("另外，村里的自来水管冻裂了，已经停水三天。"))
    assert second != first
    assert db.session.query(Case).filter_by(citizen_openid=citizen.openid).count() == 2


def test_asking_for_a_new_case_stops_adding_to_the_last_one(wechat, citizen):
    first = number_in(citizen.say("我们村的通组公路塌方了，车过不去，请尽快派人修。"))
    assert "另开一件" in citizen.say("新诉求")
    second = number_in(citizen.say("另外，村里的自来水管冻裂了，已经停水三天。"))
    assert second != first


def test_a_picture_sent_first_opens_a_case_and_the_words_after_it_complete_it(wechat, citizen):
    reply = citizen.send(citizen.sim.image(citizen.openid, "http://mmbiz.qpic.cn/road.jpg",
                                           "ImgMedia_road"))
    number = number_in(reply)
    assert "已收到您的图片" in reply and "用文字说明" in reply
    assert citizen.say("照片是村口的桥，桥面裂开了，学生每天要从这里过。") == \
        f"已补充到工单 {number}。"
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert "桥面裂开" in case.content
    assert [(a.kind, a.url) for a in case.attachments] == [
        ("image", "http://mmbiz.qpic.cn/road.jpg")]


def test_voice_without_recognition_keeps_the_recording_for_staff(wechat, citizen):
    reply = citizen.send(citizen.sim.voice(citizen.openid, "VoiceNoText_1"))
    number = number_in(reply)
    assert "未能转成文字" in reply
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert case.content.startswith("[语音留言")
    assert [(a.kind, a.media_id, a.content_type) for a in case.attachments] == [
        ("voice", "VoiceNoText_1", "audio/amr")]


def test_survey_answer_after_the_case_was_reopened_gets_told_the_case_is_handled_again(
        wechat, citizen, reopened_case):
    case = reopened_case(channel="wechat", line="fupin", category="hardship",
                         content=FIRST, citizen={"name": "王明富", "openid": citizen.openid})
    survey = db.session.scalar(select(Survey))  # sent at closing, never answered

    reply = citizen.say("3 钱还没到账")

    assert case["number"] in reply and "重新交办" in reply and "未记录" in reply
    db.session.expire_all()
    assert survey.rating is None and survey.superseded_at is not None
    assert db.session.query(Case).count() == 1  # nor is the late answer taken for a new case
