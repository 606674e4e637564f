"""Fixtures of the console tests: staff with passwords, and a browser-like client signed in."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hotline.api.admin import create_user
from hotline.extensions import db
from hotline.identity import set_password

PASSWORD = "热线-Pass-2026"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(client: Any, page: str, action: str, data: dict[str, Any], **kw: Any):
    """Post a form of `page` to `action` as the browser would: with the page's CSRF token."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data}, **kw)


def saved(client: Any, page: str, action: str, data: dict[str, Any]):
    """Post a form of `page` that the console takes: it redirects to what was saved."""
    resp = post_form(client, page, action, data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


def refused(client: Any, page: str, action: str, data: dict[str, Any]) -> str:
    """Post a form of `page` that the console refuses (400): the page it answers with."""
    resp = post_form(client, page, action, data)
    assert resp.status_code == 400
    return resp.get_data(as_text=True)


def make_staff(name: str, role: str, department: str | None = None,
               password: str = PASSWORD) -> Any:
    user, _token = create_user(name, role, department)
    set_password(user, password)
    db.session.commit()
    return user


def sign_in(client: Any, name: str, password: str = PASSWORD, **fields: str):
    """Sign in on the console's form; `fields` are more of the form's (`next`)."""
    page = client.get("/console/login")
    return client.post("/console/login", data={
        "csrf_token": csrf_of(page.get_data(as_text=True)), "username": name,
        "password": password, **fields})


@pytest.fixture
def staff(app: Any) -> dict[str, Any]:
    """One of each: operator, supervisor, admin, a handler of gz-hrss and one of gov-520100."""
    return {
        "operator": make_staff("坐席小王", "operator"),
        "supervisor": make_staff("督办老李", "supervisor"),
        "admin": make_staff("admin", "admin"),
        "handler": make_staff("人社承办", "handler", "gz-hrss"),
        "other_handler": make_staff("贵阳承办", "handler", "gov-520100"),
    }


@pytest.fixture
def console_as(app: Any, staff: dict[str, Any]):
    """A client signed in as the given role's user (a fresh browser each call)."""

    def make(role: str):
        client = app.test_client()
        resp = sign_in(client, staff[role].name)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return client

    return make
