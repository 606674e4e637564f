"""Status updates and the survey reach the citizen through WeChat's API (a local server that
speaks it), sent by the workers' outbox relay: customer-service messages while the citizen
wrote within 48 hours — the channel tells the relay when that was — template messages after.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from channels.wechat.models import WeChatFollower
from channels.wechat.outbound import account_for_openid, last_inbound_at, sender_for_openid
from hotline.extensions import db
from hotline.models import Case, OutboxMessage, Survey
from hotline.models.types import utcnow
from workers import relay

from .conftest import handle_as_staff, number_in

COMPLAINT = "我在毕节打工的工资被拖欠了四个月，老板一直说没钱，家里孩子等着交学费。"


def deliver_pending() -> list[str]:
    ids = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.channel == "wechat", OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id)).all()
    return [relay.deliver(i) for i in ids]


@pytest.fixture
def wechat_api(wechat, fake_wechat):
    wechat.config.update(WECHAT_API_BASE=fake_wechat.api_base)
    return fake_wechat


def test_the_citizen_is_told_each_step_and_asked_to_rate_inside_wechat(
        wechat_api, citizen, api, tokens):
    number = number_in(citizen.say(COMPLAINT))
    handle_as_staff(api, tokens, number)
    assert api.post(f"/cases/{number}/close", tokens.operator, {}).status_code == 200
    assert set(deliver_pending()) == {"sent"}

    received = wechat_api.sent_to(citizen.openid)
    assert {m["kind"] for m in received} == {"custom"}
    texts = [m["text"]["content"] for m in received]
    assert any(f"（工单号{number}）已转交" in t for t in texts), texts
    assert any("作出答复" in t for t in texts), texts
    assert any("已办结" in t and "审核通过" in t for t in texts), texts
    assert any("请对办理结果评价" in t for t in texts), texts

    assert citizen.say("1").startswith(f"感谢您的评价！工单 {number}：满意")
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert db.session.scalar(select(Survey.rating).where(Survey.case_id == case.id)) == \
        "satisfied"


def test_outside_the_48_hours_the_update_goes_as_a_template_message(
        wechat, wechat_api, citizen, api, tokens):
    wechat.config.update(WECHAT_TEMPLATE_ID="TM00015_status")
    number = number_in(citizen.say(COMPLAINT))
    three_days_ago = utcnow() - dt.timedelta(days=3)
    db.session.execute(update(WeChatFollower).values(last_inbound_at=three_days_ago))
    db.session.execute(update(Case).values(received_at=three_days_ago))
    db.session.commit()
    assert last_inbound_at("wechat", citizen.openid) == three_days_ago

    handle_as_staff(api, tokens, number)
    assert set(deliver_pending()) == {"sent"}
    received = wechat_api.sent_to(citizen.openid)
    assert received and {m["kind"] for m in received} == {"template"}
    assert received[0]["template_id"] == "TM00015_status"


def test_a_menu_click_reopens_the_48_hour_window(wechat, wechat_api, citizen, api, tokens):
    number = number_in(citizen.say(COMPLAINT))
    long_ago = utcnow() - dt.timedelta(days=5)
    db.session.execute(update(WeChatFollower).values(last_inbound_at=long_ago))
    db.session.execute(update(Case).values(received_at=long_ago))
    db.session.commit()
    citizen.click("MY_CASES")  # no message, no case: still an interaction WeChat counts
    assert utcnow() - last_inbound_at("wechat", citizen.openid) < dt.timedelta(minutes=1)

    handle_as_staff(api, tokens, number)
    deliver_pending()
    assert {m["kind"] for m in wechat_api.sent_to(citizen.openid)} == {"custom"}


def test_a_sender_for_the_account_an_openid_belongs_to(wechat, wechat_api, citizen, api, tokens):
    citizen.subscribe()
    assert account_for_openid(citizen.openid).code == "default"
    sender = sender_for_openid(citizen.openid, None)
    from channels.senders import OutboundMessage

    sender.send(OutboundMessage(key="outbox-x", channel="wechat", to=citizen.openid,
                                text="测试消息", purpose="notify",
                                last_inbound_at=last_inbound_at("wechat", citizen.openid)))
    assert wechat_api.sent_to(citizen.openid)[0]["text"]["content"] == "测试消息"
    assert sender_for_openid("oUnknown", None) is None


def test_citizens_of_an_account_added_by_the_admin_hear_from_that_account(
        wechat, api, tokens, citizen_factory):
    from tests.fakeservers import FakeWeChat

    from .test_wechat_accounts_api import ZTC, add_account, ztc_citizen

    with FakeWeChat(appid=ZTC["appid"], secret=ZTC["secret"]) as ztc_api:
        wechat.config.update(WECHAT_API_BASE=ztc_api.api_base)
        add_account(api, tokens)
        boss = ztc_citizen(citizen_factory)
        number = number_in(boss.say("我们是遵义的一家民营食品企业，申请的稳岗返还到现在还没有到账。"))
        handle_as_staff(api, tokens, number)
        assert set(deliver_pending()) == {"sent"}
        texts = [m["text"]["content"] for m in ztc_api.sent_to(boss.openid)]
        assert texts and all(number in t for t in texts)
        assert ztc_api.token_fetches == 1  # the account's own credentials, one shared token
