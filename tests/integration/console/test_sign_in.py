"""Signing in to the staff console: passwords, sessions that end, CSRF, and the case page scoped
exactly like the API."""

from __future__ import annotations

import time

from click.testing import CliRunner

from hotline.extensions import db
from hotline.identity import end_sessions
from tests.conftest import CASE

from .conftest import PASSWORD, csrf_of, sign_in


def test_console_sends_a_visitor_without_a_session_to_the_sign_in_page(app):
    client = app.test_client()
    resp = client.get("/console/cases?status=received")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/console/login?next=/console/cases")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "工作人员登录" in page


def test_operator_signs_in_and_lands_on_the_console_with_their_name(app, staff):
    client = app.test_client()
    resp = sign_in(client, "坐席小王")
    assert resp.status_code == 302
    page = client.get("/console/", follow_redirects=True).get_data(as_text=True)
    assert "坐席小王" in page and "坐席" in page
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(app, staff):
    resp = sign_in(app.test_client(), "坐席小王", next="/console/cases?status=closed")
    assert resp.headers["Location"] == "/console/cases?status=closed"
    resp = sign_in(app.test_client(), "坐席小王", next="https://evil.example/console")
    assert resp.headers["Location"] == "/console/"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app, staff):
    client = app.test_client()
    wrong_password = sign_in(client, "坐席小王", "not-the-password")
    unknown_name = sign_in(client, "没有这个人", "not-the-password")
    for resp in (wrong_password, unknown_name):
        assert resp.status_code == 401
        assert "用户名或密码不正确" in resp.get_data(as_text=True)
    assert client.get("/console/cases").status_code == 302


def test_sign_in_posted_without_its_csrf_token_signs_nobody_in(app, staff):
    client = app.test_client()
    resp = client.post("/console/login", data={"username": "坐席小王", "password": PASSWORD})
    assert resp.status_code == 400
    assert "表单已失效" in resp.get_data(as_text=True)
    assert client.get("/console/cases").status_code == 302


def test_a_deactivated_users_open_session_is_refused_on_the_next_click(app, staff, console_as):
    client = console_as("handler")
    assert client.get("/console/cases").status_code == 200
    staff["handler"].active = False
    db.session.commit()
    resp = client.get("/console/cases")
    assert resp.status_code == 302
    assert "why=ended" in resp.headers["Location"]


def test_ending_a_users_sessions_signs_out_every_browser(app, staff, console_as):
    office, phone = console_as("operator"), console_as("operator")
    end_sessions(staff["operator"])
    db.session.commit()
    for client in (office, phone):
        assert client.get("/console/cases").status_code == 302


def test_an_idle_session_ends_after_the_configured_minutes(app, staff, console_as, monkeypatch):
    client = console_as("operator")
    assert client.get("/console/cases").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr("hotline.console.session.time.time", lambda: later)
    resp = client.get("/console/cases")
    assert resp.status_code == 302 and "why=idle" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "长时间未操作" in page


def test_sign_out_ends_the_session(app, staff, console_as):
    client = console_as("supervisor")
    page = client.get("/console/cases").get_data(as_text=True)
    resp = client.post("/console/logout", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 302
    assert client.get("/console/cases").status_code == 302


def test_case_page_is_not_found_for_a_handler_of_another_department(app, api, tokens, staff,
                                                                    console_as):
    case = api.post("/cases", tokens.operator, CASE).get_json()
    if case["status"] == "received":
        api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    own = console_as("handler").get(f"/console/cases/{case['number']}")
    assert own.status_code == 200
    assert "拖欠我公司工程款" in own.get_data(as_text=True)
    other = console_as("other_handler").get(f"/console/cases/{case['number']}")
    assert other.status_code == 404
    assert "拖欠" not in other.get_data(as_text=True)
    api_other = api.get(f"/cases/{case['number']}", tokens.other_handler)
    assert api_other.status_code == 404


def test_case_search_shows_a_handler_only_its_own_departments_cases(app, api, tokens, staff,
                                                                  console_as):
    case = api.post("/cases", tokens.operator, CASE).get_json()
    if case["status"] == "received":
        api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    assert case["number"] in console_as("handler").get("/console/cases").get_data(as_text=True)
    assert case["number"] not in console_as("other_handler").get(
        "/console/cases").get_data(as_text=True)


def test_create_user_with_password_from_standard_input_can_sign_in(app, app_config, monkeypatch):
    from hotline.cli import main

    for key, value in (("DATABASE_URL", app_config["DATABASE_URL"]),
                       ("SECRET_KEY", app_config["SECRET_KEY"]),
                       ("HOTLINE_INSTANCE_PATH", app_config["INSTANCE_PATH"])):
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["create-user", "值班长", "--role", "supervisor",
                                       "--password"], input="值班-Strong-9\n")
    assert result.exit_code == 0, result.output
    assert "can sign in at /console" in result.output
    assert result.output.strip().splitlines()[-1].startswith("hl_")  # the API token, last
    db.session.remove()
    client = app.test_client()
    assert sign_in(client, "值班长", "值班-Strong-9").status_code == 302

    short = CliRunner().invoke(main, ["create-user", "短密码", "--role", "operator",
                                      "--password"], input="abc\n")
    assert short.exit_code != 0
    assert short.output.strip().splitlines()[-1] == "Error: 密码至少 8 个字符。"
