"""What the webhook refuses, and how: forged or missing signatures, plain messages to a
safe-mode account, another citizen's case, replays, and malformed or hostile XML. Each refusal
changes nothing and never hangs."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from channels.wechat.models import WeChatFollower, WeChatInbound
from channels.wechat.simulator import Simulator, sign
from hotline.extensions import db
from hotline.models import Case

from .conftest import AES_KEY, APPID, TOKEN

COMPLAINT = "镇上的农贸市场每天早上占道经营，学生上学要绕到马路中间走，太危险了。"


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(WeChatInbound)),
            db.session.scalar(select(func.count()).select_from(WeChatFollower)))


def assert_error(resp, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    if code:
        assert resp.get_json()["error"]["code"] == code


# -- signatures -------------------------------------------------------------------------------


def test_url_verification_echoes_echostr_only_with_the_right_signature(wechat, citizen):
    client = wechat.test_client()
    query = citizen.sim.verification("5938128407452103985")
    resp = client.get("/channels/wechat", query_string=query)
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "5938128407452103985"
    forged = {**query, "signature": sign("guessed-token", query["timestamp"], query["nonce"])}
    assert_error(client.get("/channels/wechat", query_string=forged), 403, "bad_signature")
    assert_error(client.get("/channels/wechat", query_string={"echostr": "x"}), 403)


def test_forged_or_missing_signature_gets_403_and_changes_nothing(wechat, citizen_factory):
    before = counts()
    forger = citizen_factory("oForger000000000000000000001", token="notTheRealToken")
    assert_error(forger.post(forger.sim.text(forger.openid, COMPLAINT)), 403, "bad_signature")
    honest = citizen_factory("oHonest000000000000000000001")
    request = honest.sim.request(honest.sim.text(honest.openid, COMPLAINT))
    client = wechat.test_client()
    for drop in ("signature", "timestamp", "nonce"):
        query = {k: v for k, v in request.query.items() if k != drop}
        assert_error(client.post("/channels/wechat", query_string=query, data=request.body), 403)
    # A valid plain signature with a tampered encrypted body: msg_signature no longer matches.
    tampered = {**request.query, "msg_signature": sign(TOKEN, "1", "2", "3")}
    assert_error(client.post("/channels/wechat", query_string=tampered, data=request.body), 403)
    assert counts() == before


def test_a_safe_mode_account_refuses_plain_messages(wechat, citizen_factory):
    plain = citizen_factory("oPlain0000000000000000000001", mode="plain")
    assert_error(plain.post(plain.sim.text(plain.openid, COMPLAINT)), 403, "bad_signature")
    assert counts() == (0, 0, 0)


def test_a_message_encrypted_for_another_appid_is_refused(wechat, citizen_factory):
    other = citizen_factory("oOther0000000000000000000001", appid="wxffffffffffffffff")
    assert_error(other.post(other.sim.text(other.openid, COMPLAINT)), 403)
    assert counts() == (0, 0, 0)


def test_a_request_with_a_stale_timestamp_is_refused(wechat, citizen):
    xml = citizen.sim.text(citizen.openid, COMPLAINT)
    old = str(int(time.time()) - 3600)
    request = citizen.sim.request(xml, timestamp=old)
    resp = wechat.test_client().post("/channels/wechat", query_string=request.query,
                                     data=request.body)
    assert_error(resp, 403)
    assert counts() == (0, 0, 0)


def test_compatible_mode_messages_are_read_from_their_encrypted_copy(wechat, citizen_factory):
    compatible = citizen_factory("oCompat000000000000000000001", mode="compatible")
    reply = compatible.say(COMPLAINT)
    assert "工单号：FP" in reply
    case = db.session.scalar(select(Case))
    assert case.content == COMPLAINT


def test_plain_mode_account_takes_plain_messages(wechat, citizen_factory):
    wechat.config.update(WECHAT_AES_KEY=None)
    plain = citizen_factory("oPlainOk00000000000000000001", mode="plain")
    assert "工单号：FP" in plain.say(COMPLAINT)
    assert db.session.scalar(select(Case)).content == COMPLAINT


def test_an_unknown_account_address_is_404(wechat, citizen_factory):
    stranger = citizen_factory("oNobody00000000000000000001", path="/channels/wechat/nobody")
    assert_error(stranger.post(stranger.sim.text(stranger.openid, COMPLAINT)), 404)


# -- another citizen's case -------------------------------------------------------------------


def test_another_citizens_case_gets_the_same_not_found_as_a_missing_one(
        wechat, citizen_factory, new_case):
    owner = citizen_factory("oOwner0000000000000000000001")
    number = re.search(r"FP\d{8}-\d{4}", owner.say(COMPLAINT)).group(0)
    phone_case = new_case()["number"]  # logged by an operator for 13985012345
    snoop = citizen_factory("oSnoop0000000000000000000001")
    missing = "FP20200101-0999"
    answers = {n: snoop.say(n) for n in (number, phone_case, missing)}
    for n, text in answers.items():
        assert text == answers[missing].replace(missing, n)
    assert "未查询到工单" in answers[missing]
    assert number not in snoop.say("我的")
    assert "当前状态" in owner.say(number)


# -- retries --------------------------------------------------------------------------------


def test_a_retried_message_gets_the_first_reply_and_no_second_case(wechat, citizen):
    xml = citizen.sim.text(citizen.openid, COMPLAINT)  # one MsgId, posted three times
    replies = {citizen.send(xml) for _ in range(3)}
    assert len(replies) == 1 and "工单号" in replies.pop()
    assert counts()[:2] == (1, 1)


def test_concurrent_retries_make_one_case(wechat, citizen):
    xml = citizen.sim.text(citizen.openid, COMPLAINT)
    requests = [citizen.sim.request(xml) for _ in range(6)]
    results: list = []

    def post(request) -> None:
        client = wechat.test_client()
        with wechat.app_context():
            resp = client.post("/channels/wechat", query_string=request.query, data=request.body)
            results.append((resp.status_code, resp.get_data(as_text=True)))

    threads = [threading.Thread(target=post, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(results) == {(200, "success")}
    assert "工单号" in citizen.work()
    assert counts()[:2] == (1, 1)


def test_several_messages_at_once_from_one_citizen_make_one_case(wechat, citizen):
    texts = [f"{COMPLAINT}（第{i}条）" for i in range(5)]
    requests = [citizen.sim.request(citizen.sim.text(citizen.openid, t)) for t in texts]
    statuses: list[int] = []

    def post(request) -> None:
        with wechat.app_context():
            resp = wechat.test_client().post("/channels/wechat", query_string=request.query,
                                             data=request.body)
            statuses.append(resp.status_code)

    threads = [threading.Thread(target=post, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 5
    citizen.work()
    case = db.session.scalar(select(Case))
    assert counts()[:2] == (1, 5)
    assert all(t in case.content for t in texts)


def test_a_retried_event_is_answered_once(wechat, citizen):
    xml = citizen.sim.event(citizen.openid, "subscribe", create_time=1764000000)
    assert citizen.send(xml) == citizen.send(xml)
    assert counts()[1] == 1


# -- malformed and hostile XML -------------------------------------------------------------


def plain_citizen(citizen_factory):
    return citizen_factory("oXml000000000000000000000001", mode="plain")


HOSTILE = {
    "control characters": "<xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName>"
                          "<CreateTime>1</CreateTime><MsgType>text</MsgType>"
                          "<Content>低保\x01\x02</Content><MsgId>1</MsgId></xml>",
    "entity expansion": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "哈哈哈哈哈哈哈哈">'
                        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
                        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
                        '<xml><MsgType>text</MsgType><Content>&d;&d;&d;&d;</Content></xml>',
    "external entity": '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM '
                       '"file:///etc/passwd">]><xml><MsgType>text</MsgType>'
                       '<Content>&x;</Content></xml>',
    "doctype": '<!DOCTYPE xml><xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName>'
               '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>',
    "not xml": "我要投诉！！！",
    "truncated": "<xml><ToUserName><![CDATA[gh",
    "wrong root": "<message><MsgType>text</MsgType></message>",
    "text root": "<xml>hello</xml>",
    "missing MsgType": "<xml><FromUserName>oX</FromUserName><CreateTime>1</CreateTime></xml>",
    "nested MsgType": "<xml><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
                      "<MsgType><a>text</a></MsgType></xml>",
    "repeated Content": "<xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName>"
                        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>a</Content>"
                        "<Content>b</Content><MsgId>2</MsgId></xml>",
    "letters in MsgId": "<xml><ToUserName>a</ToUserName><FromUserName>oX</FromUserName>"
                        "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>a</Content>"
                        "<MsgId>abc</MsgId></xml>",
    "not utf-8": b"<xml><MsgType>text\xff\xfe</MsgType></xml>",
    "empty": "",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_malformed_or_hostile_xml_gets_an_error_and_changes_nothing(wechat, citizen_factory,
                                                                    name):
    wechat.config.update(WECHAT_AES_KEY=None)
    sender = plain_citizen(citizen_factory)
    started = time.monotonic()
    resp = sender.post(HOSTILE[name])
    assert time.monotonic() - started < 2
    assert_error(resp, 400, "validation_error")
    assert "malformed" in resp.get_json()["error"]["message"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("name", ["control characters", "entity expansion", "not xml"])
def test_hostile_xml_inside_a_valid_encrypted_envelope_is_refused_too(wechat, citizen, name):
    resp = citizen.post(HOSTILE[name])
    assert_error(resp, 400, "validation_error")
    assert counts() == (0, 0, 0)


def test_garbage_instead_of_the_encrypted_envelope_is_refused(wechat, citizen):
    request = citizen.sim.request(citizen.sim.text(citizen.openid, COMPLAINT))
    client = wechat.test_client()
    for body in (b"<xml><Encrypt>!!!not base64!!!</Encrypt></xml>", b"<xml></xml>",
                 b"\x00\x01\x02"):
        resp = client.post("/channels/wechat", query_string=request.query, data=body)
        assert resp.status_code in (400, 403), body
    assert counts() == (0, 0, 0)


def test_a_huge_body_is_refused_with_413_before_it_is_read(wechat, citizen):
    request = citizen.sim.request(citizen.sim.text(citizen.openid, "长" * 40000))
    client = wechat.test_client()
    resp = client.post("/channels/wechat", query_string=request.query, data=request.body)
    assert_error(resp, 413, "payload_too_large")
    # Unsigned too: the size is checked before anything else is looked at.
    resp = client.post("/channels/wechat", data=b"<xml>" + b"a" * 10_000_000 + b"</xml>")
    assert_error(resp, 413)
    assert counts() == (0, 0, 0)


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(wechat, live_server, citizen):
    wechat.config.update(WECHAT_AES_KEY=None)
    sim = Simulator(TOKEN, appid=APPID, mode="plain")
    request = sim.request(sim.text(citizen.openid, "长" * 40000))

    def chunks():  # a generator body: requests sends it chunked, with no Content-Length
        for i in range(0, len(request.body), 4096):
            yield request.body[i:i + 4096]

    try:
        resp = requests.post(live_server + "/channels/wechat", params=request.query,
                             data=chunks(), timeout=10)
        assert resp.status_code == 413
    except requests.ConnectionError:
        pass  # the server may also hang up on the rest of the upload: refused either way
    assert counts() == (0, 0, 0)


def test_unsupported_messages_get_a_hint_and_no_case(wechat, citizen):
    reply = citizen.send(citizen.sim.message(citizen.openid, "file", {"Title": "材料.pdf"}))
    assert "暂不支持" in reply
    assert counts()[0] == 0


def test_unknown_events_are_answered_with_success(wechat, citizen):
    resp = citizen.post(citizen.sim.event(citizen.openid, "TEMPLATESENDJOBFINISH"))
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"
    resp = citizen.post(citizen.sim.event(citizen.openid, "VIEW", "https://www.guizhou.gov.cn"))
    assert resp.get_data(as_text=True) == "success"
    assert citizen.work() == ""
    assert counts()[0] == 0


def test_app_secret_key_and_aes_key_are_not_needed_for_plain_verification(wechat, citizen):
    # The default account's appid and AES key only matter for encrypted messages.
    wechat.config.update(WECHAT_APPID=None, WECHAT_AES_KEY=None)
    query = Simulator(TOKEN).verification("42")
    assert wechat.test_client().get("/channels/wechat", query_string=query).data == b"42"
    assert AES_KEY  # the fixture's key stays the account's in the other tests
