"""Outward senders against local servers that speak Twilio's and WeChat's APIs, and a real Redis."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from channels.senders import (
    LogSender,
    OutboundMessage,
    PermanentSendError,
    Reconciler,
    TransientSendError,
    TwilioCallSender,
    TwilioSmsSender,
    WeChatSender,
    build_senders,
)
from tests.fakeservers import FakeTwilio, FakeWeChat, RedisServer

pytest_plugins = ["tests.fakeservers.fixtures"]

LINE_FUPIN = "+8685186833668"
CITIZEN_PHONE = "+8613985012345"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
SURVEY_TEXT = "【贵州扶贫专线】您反映的低保申请问题已办结，请回复1满意、2基本满意、3不满意。"
NOW = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)


def sms(text: str = SURVEY_TEXT, **kw: object) -> OutboundMessage:
    fields: dict = {
        "key": "outbox-1",
        "channel": "sms",
        "to": CITIZEN_PHONE,
        "text": text,
        "purpose": "survey",
        "from_number": LINE_FUPIN,
    }
    return OutboundMessage(**(fields | kw))


def wechat(last_inbound_at: datetime | None, **kw: object) -> OutboundMessage:
    fields: dict = {
        "key": "outbox-7",
        "channel": "wechat",
        "to": OPENID,
        "text": "您的工单 FP20240520-0007 已受理，承办单位：省人社厅。",
        "purpose": "ack",
        "last_inbound_at": last_inbound_at,
    }
    return OutboundMessage(**(fields | kw))


def sms_sender(fake: FakeTwilio, **kw: object) -> TwilioSmsSender:
    return TwilioSmsSender(fake.account_sid, fake.auth_token, base_url=fake.url, **kw)


def wechat_sender(fake: FakeWeChat, redis_client: redis.Redis, **kw: object) -> WeChatSender:
    options: dict = {"api_base_url": fake.api_base, "now": lambda: NOW} | kw
    return WeChatSender(fake.appid, fake.secret, redis=redis_client, **options)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- Twilio SMS --------------------------------------------------------------------------------


def test_sms_in_chinese_reaches_twilio_with_to_from_body_and_account_credentials(fake_twilio):
    result = sms_sender(fake_twilio).send(sms())

    (request,) = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.basic_auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {"To": CITIZEN_PHONE, "From": LINE_FUPIN, "Body": SURVEY_TEXT}
    assert result.provider_id == fake_twilio.messages[0]["sid"]
    assert result.provider_id.startswith("SM")
    assert result.detail == "twilio queued"


def test_sms_without_a_line_number_goes_out_from_the_default_number(fake_twilio):
    sender = sms_sender(fake_twilio, default_from="+8685100000000")
    sender.send(sms(from_number=None))
    assert fake_twilio.messages[0]["from"] == "+8685100000000"


def test_sms_with_no_from_number_at_all_is_refused_without_calling_twilio(fake_twilio):
    with pytest.raises(PermanentSendError, match="from-number"):
        sms_sender(fake_twilio).send(sms(from_number=None))
    assert fake_twilio.requests == []


def test_twilio_500_is_transient_and_may_have_been_sent(fake_twilio):
    fake_twilio.fail_next(status=500)
    with pytest.raises(TransientSendError) as err:
        sms_sender(fake_twilio).send(sms())
    assert err.value.maybe_sent
    assert err.value.code == 20500


def test_invalid_to_number_21211_is_permanent(fake_twilio):
    with pytest.raises(PermanentSendError) as err:
        sms_sender(fake_twilio).send(sms(to="13985012345"))  # not E.164
    assert err.value.code == 21211
    assert "13985012345" in err.value.reason
    assert fake_twilio.messages == []


def test_injected_21211_error_is_permanent(fake_twilio):
    fake_twilio.fail_next(status=400, code=21211)
    with pytest.raises(PermanentSendError) as err:
        sms_sender(fake_twilio).send(sms())
    assert err.value.code == 21211


def test_sms_to_a_citizen_who_answered_stop_is_permanent(fake_twilio):
    fake_twilio.unsubscribe(CITIZEN_PHONE)
    with pytest.raises(PermanentSendError) as err:
        sms_sender(fake_twilio).send(sms())
    assert err.value.code == 21610


def test_rejected_twilio_credentials_are_transient_so_the_message_waits_for_a_fix(fake_twilio):
    sender = TwilioSmsSender(fake_twilio.account_sid, "wrong-token", base_url=fake_twilio.url)
    with pytest.raises(TransientSendError, match="TWILIO_AUTH_TOKEN") as err:
        sender.send(sms())
    assert not err.value.maybe_sent


def test_unreachable_twilio_is_transient_and_certainly_not_sent():
    sender = TwilioSmsSender("AC" + "0" * 32, "token", base_url=closed_port_url())
    with pytest.raises(TransientSendError) as err:
        sender.send(sms())
    assert not err.value.maybe_sent


def test_twilio_timeout_may_have_sent_and_find_sent_then_finds_the_message(fake_twilio):
    sender = sms_sender(fake_twilio, timeout=0.3)
    attempt_started = datetime.now(UTC)
    # Twilio takes the message but answers after the sender stopped waiting.
    fake_twilio.delay_next(seconds=1.0, path="Messages.json")
    with pytest.raises(TransientSendError) as err:
        sender.send(sms())
    assert err.value.maybe_sent

    assert isinstance(sender, Reconciler)
    found = _eventually(lambda: sender.find_sent(sms(), since=attempt_started))
    assert found is not None
    assert found.provider_id == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1


def test_find_sent_is_none_when_no_matching_message_went_out(fake_twilio):
    sender = sms_sender(fake_twilio)
    sender.send(sms(text="另一条通知"))
    assert sender.find_sent(sms(), since=datetime.now(UTC) - timedelta(minutes=5)) is None


def test_status_callback_url_names_the_outbox_row(fake_twilio):
    sender = sms_sender(
        fake_twilio, status_callback="https://hotline.example.gov.cn/channels/twilio/status"
    )
    sender.send(sms(key="outbox-42"))
    assert fake_twilio.requests[0].form["StatusCallback"] == (
        "https://hotline.example.gov.cn/channels/twilio/status?outbox_key=outbox-42"
    )


# -- Twilio calls ------------------------------------------------------------------------------


def test_survey_call_is_created_with_the_twiml_url(fake_twilio):
    sender = TwilioCallSender(
        fake_twilio.account_sid, fake_twilio.auth_token, base_url=fake_twilio.url
    )
    result = sender.send(
        sms(channel="voice", twiml_url="https://hotline.example.gov.cn/channels/twilio/survey/9")
    )
    (request,) = fake_twilio.requests_to("Calls.json", "POST")
    assert request.form["Url"] == "https://hotline.example.gov.cn/channels/twilio/survey/9"
    assert request.form["To"] == CITIZEN_PHONE and request.form["From"] == LINE_FUPIN
    assert result.provider_id.startswith("CA")


def test_call_without_twiml_url_reads_the_text_in_mandarin(fake_twilio):
    sender = TwilioCallSender(
        fake_twilio.account_sid, fake_twilio.auth_token, base_url=fake_twilio.url
    )
    sender.send(sms(channel="voice"))
    twiml = fake_twilio.requests[0].form["Twiml"]
    assert 'language="cmn-CN"' in twiml
    assert SURVEY_TEXT in twiml


def test_find_sent_finds_a_survey_call_placed_since_the_attempt(fake_twilio):
    sender = TwilioCallSender(
        fake_twilio.account_sid, fake_twilio.auth_token, base_url=fake_twilio.url
    )
    msg = sms(channel="voice", twiml_url="https://hotline.example.gov.cn/s/9")
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert sender.find_sent(msg, since=before) is None
    placed = sender.send(msg)
    assert sender.find_sent(msg, since=before).provider_id == placed.provider_id


# -- WeChat ------------------------------------------------------------------------------------


def test_wechat_inside_48_hours_sends_a_customer_service_text(fake_wechat, redis_client):
    msg = wechat(last_inbound_at=NOW - timedelta(hours=47))
    result = wechat_sender(fake_wechat, redis_client).send(msg)

    (request,) = fake_wechat.requests_to("message/custom/send")
    assert request.json == {"touser": OPENID, "msgtype": "text", "text": {"content": msg.text}}
    # Chinese travels as UTF-8, not as \\u escapes.
    assert msg.text.encode("utf-8") in request.body
    assert request.query["access_token"] == fake_wechat.token
    assert result.detail == "wechat customer-service message"


def test_wechat_outside_48_hours_sends_the_template_message(fake_wechat, redis_client):
    sender = wechat_sender(fake_wechat, redis_client, template_id="TPL-case-progress")
    result = sender.send(wechat(last_inbound_at=NOW - timedelta(hours=49)))

    assert fake_wechat.requests_to("message/custom/send") == []
    (sent,) = fake_wechat.sent
    assert sent["kind"] == "template"
    assert sent["template_id"] == "TPL-case-progress"
    assert sent["data"] == {"content": {"value": wechat(None).text}}
    assert result.provider_id == str(sent["msgid"])


def test_template_given_with_the_message_overrides_the_configured_one(fake_wechat, redis_client):
    template = {
        "template_id": "TPL-survey",
        "data": {"thing1": {"value": "低保申请"}, "phrase2": {"value": "已办结"}},
        "url": "https://hotline.example.gov.cn/s/abc",
    }
    sender = wechat_sender(fake_wechat, redis_client, template_id="TPL-case-progress")
    sender.send(wechat(last_inbound_at=None, template=template))
    (sent,) = fake_wechat.sent
    assert sent["template_id"] == "TPL-survey"
    assert sent["data"] == template["data"]
    assert sent["url"] == template["url"]


def test_wechat_45015_falls_back_to_the_template(fake_wechat, redis_client):
    fake_wechat.mark_outside_window(OPENID)
    sender = wechat_sender(fake_wechat, redis_client, template_id="TPL-case-progress")
    result = sender.send(wechat(last_inbound_at=NOW - timedelta(hours=1)))

    assert len(fake_wechat.requests_to("message/custom/send")) == 1
    assert [m["kind"] for m in fake_wechat.sent] == ["template"]
    assert "45015" in result.detail


def test_outside_the_window_without_a_template_is_permanent_with_the_reason(
    fake_wechat, redis_client
):
    sender = wechat_sender(fake_wechat, redis_client)
    with pytest.raises(PermanentSendError, match="48-hour window.*WECHAT_TEMPLATE_ID"):
        sender.send(wechat(last_inbound_at=NOW - timedelta(days=3)))
    assert fake_wechat.sent == []


def test_template_to_an_unsubscribed_citizen_is_permanent(fake_wechat, redis_client):
    fake_wechat.unsubscribe(OPENID)
    sender = wechat_sender(fake_wechat, redis_client, template_id="TPL-case-progress")
    with pytest.raises(PermanentSendError) as err:
        sender.send(wechat(last_inbound_at=NOW - timedelta(hours=2)))
    assert err.value.code == 43004


def test_access_token_is_fetched_once_and_shared_through_redis(fake_wechat, redis_server):
    # Two senders as in two worker processes: separate clients, one Redis.
    redis_server.start()
    redis_server.flushall()
    first_conn, second_conn = redis_server.client(), redis_server.client()
    first = wechat_sender(fake_wechat, first_conn)
    second = wechat_sender(fake_wechat, second_conn)

    first.send(wechat(last_inbound_at=NOW))
    second.send(wechat(last_inbound_at=NOW, key="outbox-8"))

    assert fake_wechat.token_fetches == 1
    tokens = {r.query["access_token"] for r in fake_wechat.requests_to("message/custom")}
    assert tokens == {fake_wechat.token}
    assert any(b"access_token" in key for key in second_conn.keys("hotline:wechat:*"))


def test_expired_token_is_replaced_once_and_the_message_still_goes_out(fake_wechat, redis_client):
    sender = wechat_sender(fake_wechat, redis_client)
    sender.send(wechat(last_inbound_at=NOW))
    fake_wechat.expire_token()

    sender.send(wechat(last_inbound_at=NOW, key="outbox-8"))

    assert fake_wechat.token_fetches == 2
    assert len(fake_wechat.sent) == 2


def test_token_replaced_by_another_process_is_picked_up_without_a_new_fetch(
    fake_wechat, redis_client
):
    first = wechat_sender(fake_wechat, redis_client)
    second = wechat_sender(fake_wechat, redis_client)
    first.send(wechat(last_inbound_at=NOW))
    stale = fake_wechat.token
    # The first process refreshes; the second still holds the old token in hand when it sends.
    first.client.refresh_access_token(rejected=stale)
    assert second.client.refresh_access_token(rejected=stale) == fake_wechat.token
    assert fake_wechat.token_fetches == 2


def test_wrong_wechat_secret_is_transient_and_nothing_is_sent(fake_wechat, redis_client):
    sender = WeChatSender(
        fake_wechat.appid, "wrong", redis=redis_client, api_base_url=fake_wechat.api_base
    )
    with pytest.raises(TransientSendError, match="WECHAT_SECRET") as err:
        sender.send(wechat(last_inbound_at=datetime.now(UTC)))
    assert err.value.code == 40125
    assert not err.value.maybe_sent
    assert fake_wechat.sent == []


def test_wechat_system_busy_is_transient(fake_wechat, redis_client):
    fake_wechat.fail_next(errcode=-1, path="message/custom")
    with pytest.raises(TransientSendError) as err:
        wechat_sender(fake_wechat, redis_client).send(wechat(last_inbound_at=NOW))
    assert err.value.code == -1


def test_wechat_http_error_is_transient_and_may_have_been_sent(fake_wechat, redis_client):
    fake_wechat.fail_next(status=502, path="message/custom")
    with pytest.raises(TransientSendError) as err:
        wechat_sender(fake_wechat, redis_client).send(wechat(last_inbound_at=NOW))
    assert err.value.maybe_sent


def test_wechat_sender_with_redis_down_is_transient_and_sends_nothing(fake_wechat, redis_server):
    redis_server.start()
    sender = wechat_sender(fake_wechat, redis_server.client(socket_timeout=1))
    with redis_server.down(), pytest.raises(TransientSendError, match="token") as err:
        sender.send(wechat(last_inbound_at=NOW))
    assert not err.value.maybe_sent
    assert fake_wechat.sent == []


# -- no credentials and configuration ----------------------------------------------------------


def test_log_sender_records_what_would_have_been_sent_and_logs_neither_number_nor_text(
        caplog):
    sender = LogSender()
    with caplog.at_level(logging.DEBUG, logger="channels.senders"):
        result = sender.send(sms())
    assert result.provider_id is None and result.detail == "logged"
    assert list(sender.sent) == [sms()]
    assert "no sms credentials" in caplog.text
    # The text is in the outbox row for staff; a log is no place for a citizen's affairs.
    assert SURVEY_TEXT not in caplog.text
    assert CITIZEN_PHONE not in caplog.text


def test_without_credentials_every_channel_logs():
    senders = build_senders({"TWILIO_ACCOUNT_SID": "", "WECHAT_APPID": None}, redis=None)
    assert set(senders) == {"sms", "voice", "wechat", "email", "log"}
    assert all(isinstance(s, LogSender) for s in senders.values())


def test_configured_senders_talk_to_the_configured_api_bases(
    fake_twilio, fake_wechat, redis_client
):
    senders = build_senders(
        {**fake_twilio.config(), **fake_wechat.config(),
         "WECHAT_TEMPLATE_ID": "TPL-case-progress"},
        redis=redis_client,
    )
    senders["sms"].send(sms())
    senders["voice"].send(sms(channel="voice", twiml_url="https://h.example/s"))
    senders["wechat"].send(wechat(last_inbound_at=None))
    assert isinstance(senders["log"], LogSender)
    assert len(fake_twilio.messages) == 1 and len(fake_twilio.calls) == 1
    assert [m["template_id"] for m in fake_wechat.sent] == ["TPL-case-progress"]


# -- the test Redis itself ---------------------------------------------------------------------


def test_redis_server_comes_back_on_the_same_port_with_its_data(redis_server: RedisServer):
    redis_server.start()
    url = redis_server.url
    with redis_server.client() as conn:
        conn.set("hotline:test:kept", "1")
    with redis_server.down(), pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    assert redis_server.url == url
    with redis_server.client() as conn:
        assert conn.get("hotline:test:kept") == b"1"


def _eventually(fn, timeout: float = 3.0):
    # The delayed request is still being handled by the fake when the client gives up.
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        value = fn()
        if value is not None or datetime.now(UTC) > deadline:
            return value
        time.sleep(0.05)


def test_fake_wechat_serves_menus_and_media_to_wechatpy(fake_wechat):
    from wechatpy import WeChatClient

    client = WeChatClient(fake_wechat.appid, fake_wechat.secret)
    client.API_BASE_URL = fake_wechat.api_base
    client.session.set(client.access_token_key, fake_wechat.issue_token())
    menu = {"button": [{"type": "click", "name": "查询进度", "key": "STATUS"}]}
    client.menu.create(menu)
    assert fake_wechat.menu == menu

    fake_wechat.add_media("MEDIA_1", b"#!AMR\n...", "audio/amr")
    response = client.media.download("MEDIA_1")
    assert response.content == b"#!AMR\n..."
    assert response.headers["Content-Type"] == "audio/amr"
