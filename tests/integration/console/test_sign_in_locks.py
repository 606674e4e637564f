"""Guessing passwords: ten wrong ones lock the account (and the page says so), one address
cannot spray many names, the lock is kept in the database so every web process agrees, and an
admin sees the lock and lifts it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from hotline import create_app
from hotline.extensions import db
from hotline.models import AuthEvent

from .conftest import PASSWORD, csrf_of, sign_in


def client_from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_ten_wrong_passwords_lock_the_user_and_say_so(app, api, tokens, staff):
    client = client_from(app, "10.0.0.1")
    for _ in range(9):
        resp = sign_in(client, "坐席小王", "猜一猜-wrong-1")
        assert resp.status_code == 401
        assert "用户名或密码不正确" in resp.get_data(as_text=True)
    tenth = sign_in(client, "坐席小王", "猜一猜-wrong-1")
    assert tenth.status_code == 423
    assert "已被锁定" in tenth.get_data(as_text=True)
    # Locked means locked: even the right password is refused, from any address.
    right = sign_in(client_from(app, "10.0.0.2"), "坐席小王", PASSWORD)
    assert right.status_code == 423 and "请管理员解锁" in right.get_data(as_text=True)
    assert client.get("/console/cases").status_code == 302

    listed = {u["name"]: u for u in api.get("/users", tokens.admin).get_json()["items"]}
    assert listed["坐席小王"]["locked_until"] is not None
    assert listed["督办老李"]["locked_until"] is None
    assert api.post("/users/坐席小王/unlock", tokens.admin).status_code == 200
    assert api.get("/users/坐席小王", tokens.admin).get_json()["locked_until"] is None
    assert sign_in(client_from(app, "10.0.0.2"), "坐席小王", PASSWORD).status_code == 302


def test_a_lock_ends_by_itself_after_the_configured_minutes(app, staff, monkeypatch):
    app.config.update(SIGN_IN_LOCK_FAILURES=3, SIGN_IN_LOCK_MINUTES=5)
    client = client_from(app, "10.0.0.3")
    statuses = [sign_in(client, "督办老李", "wrong-password-x").status_code for _ in range(3)]
    assert statuses == [401, 401, 423]
    assert sign_in(client, "督办老李", PASSWORD).status_code == 423
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("hotline.identity.utcnow", lambda: later)
    assert sign_in(client, "督办老李", PASSWORD).status_code == 302


def test_a_right_password_starts_the_count_again(app, staff):
    client = client_from(app, "10.0.0.4")
    for _ in range(9):
        sign_in(client, "坐席小王", "wrong-password-x")
    assert sign_in(client, "坐席小王", PASSWORD).status_code == 302
    for _ in range(9):
        assert sign_in(client_from(app, "10.0.0.4"), "坐席小王", "wrong-password-x").status_code == 401
    db.session.refresh(staff["operator"])
    assert staff["operator"].locked_until is None


def test_one_address_cannot_spray_passwords_over_many_names(app, staff):
    app.config.update(SIGN_IN_ADDRESS_FAILURES=5, SIGN_IN_ADDRESS_MINUTES=15)
    sprayer = client_from(app, "10.6.6.6")
    names = ["坐席小王", "督办老李", "admin", "人社承办", "不存在的人"]
    assert [sign_in(sprayer, n, "Password123").status_code for n in names] == [401] * 5
    # The address now waits, whatever name or password it tries next...
    blocked = sign_in(sprayer, "贵阳承办", PASSWORD)
    assert blocked.status_code == 429
    assert "本机登录失败次数过多" in blocked.get_data(as_text=True)
    assert sign_in(sprayer, "admin", PASSWORD).status_code == 429
    # The admin's log notes the address once, not every try it makes while it waits.
    noted = db.session.scalars(select(AuthEvent).where(AuthEvent.kind == "address_blocked")).all()
    assert [(e.address, e.detail) for e in noted] == [("10.6.6.6", "15 分钟内失败 5 次")]
    # ...while no single account was locked, and other addresses sign in as usual.
    assert sign_in(client_from(app, "10.0.0.5"), "贵阳承办", PASSWORD).status_code == 302
    assert sign_in(client_from(app, "10.0.0.6"), "坐席小王", PASSWORD).status_code == 302


def test_the_address_behind_a_trusted_proxy_is_the_one_that_waits(app, staff):
    app.config.update(SIGN_IN_ADDRESS_FAILURES=3, TRUSTED_PROXIES=1)
    proxy = client_from(app, "127.0.0.1")

    def through_proxy(client_address: str, password: str):
        page = proxy.get("/console/login").get_data(as_text=True)

        return proxy.post("/console/login", headers={"X-Forwarded-For": client_address},
                          data={"csrf_token": csrf_of(page), "username": "坐席小王",
                                "password": password})

    assert [through_proxy("203.0.113.9", "wrong-password-x").status_code
            for _ in range(3)] == [401, 401, 401]
    assert through_proxy("203.0.113.9", PASSWORD).status_code == 429
    assert through_proxy("198.51.100.7", PASSWORD).status_code == 302


def test_web_processes_share_the_count_through_the_database(app, app_config, staff):
    """Two app instances (two engines, as two gunicorn workers would have) see one count."""
    other_process = create_app(app_config)
    clients = [client_from(app, "10.0.1.1"), client_from(other_process, "10.0.1.2")]
    statuses = [sign_in(clients[i % 2], "人社承办", "wrong-password-x").status_code
                for i in range(10)]
    assert statuses == [401] * 9 + [423]
    assert sign_in(clients[0], "人社承办", PASSWORD).status_code == 423
    assert sign_in(clients[1], "人社承办", PASSWORD).status_code == 423


def test_guessing_the_current_password_on_the_password_page_counts_too(app, staff, console_as):
    app.config.update(SIGN_IN_LOCK_FAILURES=3)
    client = console_as("operator")

    for _ in range(3):
        page = client.get("/console/password").get_data(as_text=True)
        resp = client.post("/console/password", data={
            "csrf_token": csrf_of(page), "current": "wrong-password-x",
            "new": "新的-Pass-2027", "confirm": "新的-Pass-2027"})
        assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    assert sign_in(app.test_client(), "坐席小王", PASSWORD).status_code == 423
