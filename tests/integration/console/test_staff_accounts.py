"""Staff accounts through the admin API: creating with an initial password, deactivating,
changing role and department, resetting a password, API tokens that expire or are revoked, and
the account log that records all of it."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import AuthEvent, User

from .conftest import PASSWORD, csrf_of, make_staff, sign_in


def test_admin_creates_a_clerk_whose_first_sign_in_must_change_the_password(app, api, tokens):
    resp = api.post("/users", tokens.admin, {"name": "遵义承办", "role": "handler",
                                             "department": "gov-520300",
                                             "password": "初始-Pass-0001"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["must_change_password"] is True and body["has_password"] is True
    assert body["token"].startswith("hl_")
    client = app.test_client()
    assert sign_in(client, "遵义承办", "初始-Pass-0001").status_code == 302
    assert client.get("/console/cases").headers["Location"] == "/console/password"
    page = client.get("/console/password").get_data(as_text=True)
    assert "请先设置新密码" in page
    resp = client.post("/console/password", data={
        "csrf_token": csrf_of(page), "current": "初始-Pass-0001", "new": "自己的-Pass-0002",
        "confirm": "自己的-Pass-0002"})
    assert resp.status_code == 302
    assert client.get("/console/cases").status_code == 200
    assert api.get("/users/遵义承办", tokens.admin).get_json()["must_change_password"] is False


def test_a_weak_initial_password_creates_nobody(api, tokens):
    before = db.session.scalar(select(func.count()).select_from(User))
    resp = api.post("/users", tokens.admin, {"name": "弱密码", "role": "operator",
                                             "password": "abc"})
    assert resp.status_code == 400 and "password" in resp.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_a_deactivated_users_token_and_sessions_stop_at_once(app, api, tokens, staff,
                                                          console_as):
    browser = console_as("handler")
    token = api.post("/users/人社承办/token", tokens.admin).get_json()["token"]
    assert api.get("/me", token).status_code == 200
    resp = api.patch("/users/人社承办", tokens.admin, {"active": False})
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    refused = api.get("/me", token)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "user_deactivated"
    assert "deactivated" in refused.get_json()["error"]["message"]
    assert "why=ended" in browser.get("/console/cases").headers["Location"]
    assert sign_in(app.test_client(), "人社承办").status_code == 401
    # Reactivated, the person signs in again; the old browser session stays ended.
    assert api.patch("/users/人社承办", tokens.admin, {"active": True}).status_code == 200
    assert api.get("/me", token).status_code == 200
    assert browser.get("/console/cases").status_code == 302
    assert sign_in(app.test_client(), "人社承办").status_code == 302


def test_changing_role_or_department_ends_the_users_sessions(api, tokens, staff, console_as):
    browser = console_as("handler")
    resp = api.patch("/users/人社承办", tokens.admin, {"department": "gov-520100"})
    assert resp.status_code == 200 and resp.get_json()["department"] == "gov-520100"
    assert browser.get("/console/cases").status_code == 302
    # A handler made an operator leaves the department behind.
    resp = api.patch("/users/人社承办", tokens.admin, {"role": "operator"})
    assert resp.get_json()["role"] == "operator" and resp.get_json()["department"] is None


@pytest.mark.parametrize("body,field", [
    ({"role": "handler"}, "department"),  # an operator made a handler needs a department
    ({"department": "gz-hrss"}, "department"),  # an operator has none
    ({"role": "king"}, "role"),
    ({"active": "perhaps"}, "active"),
    ({"nickname": "x"}, "nickname"),
])
def test_a_wrong_change_of_a_user_is_refused_and_changes_nothing(api, tokens, staff, body,
                                                                 field):
    resp = api.patch("/users/坐席小王", tokens.admin, body)
    assert resp.status_code == 400, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]
    user = api.get("/users/坐席小王", tokens.admin).get_json()
    assert (user["role"], user["department"], user["active"]) == ("operator", None, True)


def test_an_unknown_department_is_named_and_changes_nothing(api, tokens, staff):
    resp = api.patch("/users/人社承办", tokens.admin, {"department": "nowhere"})
    assert resp.status_code == 422
    assert api.get("/users/人社承办", tokens.admin).get_json()["department"] == "gz-hrss"


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(api, tokens):
    db.session.execute(db.update(User).where(User.role == "admin", User.name != "admin1")
                       .values(active=False))
    db.session.commit()
    for body in ({"active": False}, {"role": "supervisor"}):
        resp = api.patch("/users/admin1", tokens.admin, body)
        assert resp.status_code == 409, resp.get_json()
    assert api.get("/me", tokens.admin).get_json()["role"] == "admin"


def test_a_password_reset_forces_a_new_password_and_ends_sessions(app, api, tokens, staff,
                                                                 console_as):
    browser = console_as("supervisor")
    resp = api.post("/users/督办老李/password", tokens.admin, {"password": "临时-Pass-3333"})
    assert resp.status_code == 200 and resp.get_json()["must_change_password"] is True
    assert browser.get("/console/cases").status_code == 302
    assert sign_in(app.test_client(), "督办老李", PASSWORD).status_code == 401
    client = app.test_client()
    assert sign_in(client, "督办老李", "临时-Pass-3333").status_code == 302
    assert client.get("/console/cases").headers["Location"] == "/console/password"


def test_admin_ends_a_users_sessions(api, tokens, staff, console_as):
    office, phone = console_as("operator"), console_as("operator")
    assert api.post("/users/坐席小王/sign-out", tokens.admin).status_code == 200
    assert office.get("/console/cases").status_code == 302
    assert phone.get("/console/cases").status_code == 302


def test_an_expired_token_is_refused_with_a_clear_message(api, tokens, staff):
    resp = api.post("/users/坐席小王/token", tokens.admin, {"days": 30})
    token = resp.get_json()["token"]
    expires = dt.datetime.fromisoformat(resp.get_json()["api_token"]["expires_at"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    assert api.get("/me", token).status_code == 200
    # Thirty days later (the expiry moved to the past, as time would):
    user = db.session.scalar(select(User).where(User.name == "坐席小王"))
    user.token_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.session.commit()
    refused = api.get("/me", token)
    assert refused.status_code == 401
    error = refused.get_json()["error"]
    assert error["code"] == "token_expired" and "expired" in error["message"]
    assert api.get("/users/坐席小王", tokens.admin).get_json()["api_token"]["state"] == "expired"


def test_a_revoked_token_is_refused_at_once_and_says_so(api, tokens, staff):
    token = api.post("/users/坐席小王/token", tokens.admin).get_json()["token"]
    assert api.call("DELETE", "/users/坐席小王/token", tokens.admin).status_code == 200
    refused = api.get("/me", token)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    assert "revoked" in refused.get_json()["error"]["message"]
    assert api.call("DELETE", "/users/坐席小王/token", tokens.admin).status_code == 409
    # A new token works again; the revoked one stays refused.
    fresh = api.post("/users/坐席小王/token", tokens.admin).get_json()["token"]
    assert api.get("/me", fresh).status_code == 200
    assert api.get("/me", token).status_code == 401


def test_only_an_admin_manages_accounts_and_reads_the_log(api, tokens, staff):
    for token in (tokens.operator, tokens.supervisor, tokens.handler):
        assert api.get("/auth-events", token).status_code == 403
        assert api.patch("/users/坐席小王", token, {"active": False}).status_code == 403
        assert api.post("/users/坐席小王/unlock", token).status_code == 403
        assert api.call("DELETE", "/users/坐席小王/token", token).status_code == 403
    assert api.get("/users/坐席小王", tokens.admin).get_json()["active"] is True


def test_the_account_log_records_who_did_what_when_and_from_where(app, api, tokens):
    make_staff("值班员", "operator")
    make_staff("管理员甲", "admin")
    admin_token = api.post("/users/管理员甲/token", tokens.admin).get_json()["token"]
    app.config.update(SIGN_IN_LOCK_FAILURES=2)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.20.30.40"
    assert sign_in(client, "值班员").status_code == 302
    page = client.get("/console/cases").get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_of(page)})
    sign_in(client, "值班员", "wrong-password-1")
    sign_in(client, "值班员", "wrong-password-2")
    api.post("/users/值班员/unlock", admin_token)
    api.post("/users/值班员/password", admin_token, {"password": "重置-Pass-4444"})
    api.patch("/users/值班员", admin_token, {"role": "supervisor"})
    api.patch("/users/值班员", admin_token, {"active": False})
    api.patch("/users/值班员", admin_token, {"active": True})
    api.post("/users/值班员/token", admin_token, {"days": 7})
    api.call("DELETE", "/users/值班员/token", admin_token)
    api.post("/users/值班员/sign-out", admin_token)

    resp = api.get("/auth-events?user=值班员&per_page=100", admin_token)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert {e["user"] for e in items} == {"值班员"}
    kinds = [e["kind"] for e in reversed(items)]  # oldest first
    assert kinds == ["created", "token_issued", "sign_in", "sign_out", "sign_in_failed", "sign_in_failed",
                     "locked", "unlocked", "password_reset", "role_changed", "deactivated",
                     "reactivated", "token_issued", "token_revoked", "sessions_ended"]
    by_kind = {e["kind"]: e for e in reversed(items)}  # the latest of each kind
    assert by_kind["sign_in"]["address"] == "10.20.30.40" and by_kind["sign_in"]["by"] is None
    assert by_kind["locked"]["address"] == "10.20.30.40"
    assert by_kind["unlocked"]["by"] == "管理员甲"
    assert by_kind["role_changed"]["detail"] == "operator → supervisor"
    assert by_kind["token_issued"]["by"] == "管理员甲"
    assert by_kind["created"]["address"] is None  # made outside a request
    assert all(e["at"].endswith("+08:00") for e in items)
    # The filters: by kind, and a wrong one is a clear 400.
    locked = api.get("/auth-events?kind=locked", admin_token).get_json()
    assert [e["user"] for e in locked["items"]] == ["值班员"] and locked["total"] == 1
    bad = api.get("/auth-events?kind=nonsense", admin_token)
    assert bad.status_code == 400 and "kind" in bad.get_json()["error"]["fields"]


def test_create_user_with_token_days_prints_a_token_that_expires(app, app_config, monkeypatch,
                                                                 api):
    from hotline.cli import main

    for key, value in (("DATABASE_URL", app_config["DATABASE_URL"]),
                       ("SECRET_KEY", app_config["SECRET_KEY"]),
                       ("HOTLINE_INSTANCE_PATH", app_config["INSTANCE_PATH"])):
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["create-user", "接口-对接", "--role", "supervisor",
                                       "--token-days", "90"])
    assert result.exit_code == 0, result.output
    assert "expires in 90 days" in result.output
    token = result.output.strip().splitlines()[-1]
    db.session.remove()
    assert api.get("/me", token).status_code == 200
    user = db.session.scalar(select(User).where(User.name == "接口-对接"))
    assert (user.token_expires_at - user.token_issued_at) == dt.timedelta(days=90)
    assert db.session.scalar(select(AuthEvent.kind).where(AuthEvent.user_name == "接口-对接")
                             .order_by(AuthEvent.id.desc())) == "token_issued"
    refused = CliRunner().invoke(main, ["create-user", "无部门", "--role", "handler",
                                        "--password"], input="whatever-123\n")
    assert refused.exit_code == 2 and "Error: 承办人必须属于一个部门。" in refused.output


def test_the_api_document_tells_a_client_how_to_manage_accounts(api):
    doc = api.get("/api/v1/openapi.json").get_json()
    assert {"patch", "get"} <= set(doc["paths"]["/users/{name}"])
    assert {"post", "delete"} <= set(doc["paths"]["/users/{name}/token"])
    query = {p["name"] for p in doc["paths"]["/auth-events"]["get"]["parameters"]}
    assert {"user", "kind", "address", "page"} <= query
