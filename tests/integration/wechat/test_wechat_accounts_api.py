"""Accounts beyond the environment's: an admin adds one (say, for 省长直通车) through the API,
and its webhook answers at /channels/wechat/<code> with its own token, key and line."""

from __future__ import annotations

from sqlalchemy import select

from channels.wechat.models import WeChatAccount
from hotline.extensions import db

ZTC = {
    "code": "zhitongche",
    "name": "贵州省长直通车",
    "appid": "wx5e6f7a8b9c0d1e2f",
    "token": "ztcToken2026",
    "secret": "ztc-app-secret-0f9e8d7c",
    "aes_key": "Zt9xV2mQ4rT6yU8iO0pA1sD3fG5hJ7kL9zX1cV3bN5m",
    "line": "zhitongche",
}


def add_account(api, tokens, **changes):
    resp = api.post("/wechat/accounts", tokens.admin, {**ZTC, **changes})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def ztc_citizen(citizen_factory, token=ZTC["token"]):
    return citizen_factory("oZtcBoss0000000000000000001", path="/channels/wechat/zhitongche",
                           token=token, aes_key=ZTC["aes_key"], appid=ZTC["appid"])


def test_an_added_account_takes_cases_on_its_line_with_its_own_keys(wechat, api, tokens,
                                                                     citizen_factory):
    body = add_account(api, tokens)
    assert body["webhook_path"] == "/channels/wechat/zhitongche" and body["safe_mode"]
    assert not {"token", "secret", "aes_key"} & set(body)
    reply = ztc_citizen(citizen_factory).say(
        "我们是遵义的一家民营食品企业，申请的稳岗返还到现在还没有到账，请帮忙协调。")
    assert "工单号：ZT" in reply


def test_credentials_are_stored_encrypted_and_never_shown(wechat, api, tokens):
    add_account(api, tokens)
    row = db.session.scalar(select(WeChatAccount))
    stored = " ".join([row.token_enc, row.secret_enc or "", row.aes_key_enc or ""])
    for secret in (ZTC["token"], ZTC["secret"], ZTC["aes_key"]):
        assert secret not in stored
    listed = api.get("/wechat/accounts", tokens.admin).get_json()["items"]
    assert [(a["code"], a["source"]) for a in listed] == [("default", "environment"),
                                                         ("zhitongche", "admin")]
    text = str(listed)
    assert ZTC["secret"] not in text and ZTC["token"] not in text


def test_changing_the_token_takes_effect_at_once(wechat, api, tokens, citizen_factory):
    add_account(api, tokens)
    resp = api.patch("/wechat/accounts/zhitongche", tokens.admin, {"token": "ztcNewToken99"})
    assert resp.status_code == 200
    old = ztc_citizen(citizen_factory)
    assert old.post(old.sim.event(old.openid, "subscribe")).status_code == 403
    assert "欢迎关注" in ztc_citizen(citizen_factory, token="ztcNewToken99").subscribe()


def test_a_switched_off_account_stops_answering(wechat, api, tokens, citizen_factory):
    add_account(api, tokens)
    api.patch("/wechat/accounts/zhitongche", tokens.admin, {"active": False})
    citizen = ztc_citizen(citizen_factory)
    assert citizen.post(citizen.sim.event(citizen.openid, "subscribe")).status_code == 404


def test_only_admins_manage_accounts(wechat, api, tokens):
    assert api.get("/wechat/accounts", tokens.operator).status_code == 403
    assert api.post("/wechat/accounts", tokens.supervisor, ZTC).status_code == 403
    assert api.get("/wechat/accounts").status_code == 401


def test_bad_account_data_is_refused_with_the_field_named(wechat, api, tokens):
    cases = [
        ({"aes_key": "too-short"}, 400, "aes_key"),
        ({"appid": "not-an-appid"}, 400, "appid"),
        ({"token": "有中文"}, 400, "token"),
        ({"code": "Bad Code!"}, 400, "code"),
        ({"line": "nosuchline"}, 422, "line"),
        ({"colour": "red"}, 400, "colour"),
    ]
    for change, status, field in cases:
        resp = api.post("/wechat/accounts", tokens.admin, {**ZTC, **change})
        assert resp.status_code == status, (change, resp.get_json())
        assert field in resp.get_json()["error"]["fields"], change
    assert db.session.scalar(select(WeChatAccount)) is None


def test_codes_and_appids_are_unique_and_default_belongs_to_the_environment(wechat, api, tokens):
    add_account(api, tokens)
    assert api.post("/wechat/accounts", tokens.admin, ZTC).status_code == 409
    again = {**ZTC, "code": "ztc2"}
    assert api.post("/wechat/accounts", tokens.admin, again).status_code == 409
    default = {**ZTC, "code": "default", "appid": "wx99998888777766665"}
    assert api.post("/wechat/accounts", tokens.admin, default).status_code == 409
    assert api.get("/wechat/accounts/default", tokens.admin).get_json()["source"] == \
        "environment"
    assert api.get("/wechat/accounts/nosuch", tokens.admin).status_code == 404


def test_staff_read_the_conversation_around_a_case(wechat, api, tokens, citizen):
    reply = citizen.say("我们村的路灯坏了半年了，晚上出门很不安全。")
    number = reply.split("工单号：")[1][:15]
    citizen.say(number)
    resp = api.get(f"/wechat/messages?case={number}", tokens.operator)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [i["intent"] for i in items] == ["query", "intake"]
    assert items[1]["case"] == number and items[1]["reply"] == reply
    assert api.get(f"/wechat/messages?case={number}", tokens.handler).status_code == 403
    assert api.get("/wechat/messages", tokens.operator).status_code == 400


def test_the_accounts_api_is_in_the_openapi_document(wechat, api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/wechat/accounts"])
    assert "patch" in paths["/wechat/accounts/{code}"]
