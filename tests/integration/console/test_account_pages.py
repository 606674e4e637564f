"""The admin's account pages: creating a clerk with an initial password, seeing and lifting a
lock, changing role, resetting a password, tokens, and the account log — for admins only."""

from __future__ import annotations

import re

import pytest

from hotline.extensions import db

from .conftest import PASSWORD, csrf_of, sign_in


def post_form(client, page_url: str, action: str, **data):
    page = client.get(page_url).get_data(as_text=True)
    return client.post(action, data={"csrf_token": csrf_of(page), **data})


def account_url(user) -> str:
    return f"/console/admin/users/{user.id}"


def test_admin_creates_a_clerk_who_must_change_the_initial_password(app, staff, console_as):
    admin = console_as("admin")
    page = admin.get("/console/").headers["Location"]
    assert "账号管理" in admin.get(page).get_data(as_text=True)
    resp = post_form(admin, "/console/admin/users", "/console/admin/users", name="六盘水承办",
                     role="handler", department="gov-520200", password="初始-Pass-1111")
    assert resp.status_code == 302 and "done=created" in resp.headers["Location"]
    created = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "账号已创建" in created and "须改密码" in created
    listing = admin.get("/console/admin/users").get_data(as_text=True)
    assert "六盘水承办" in listing and "六盘水市人民政府" in listing or "gov-520200" in listing

    clerk = app.test_client()
    assert sign_in(clerk, "六盘水承办", "初始-Pass-1111").status_code == 302
    assert clerk.get("/console/cases").headers["Location"] == "/console/password"


@pytest.mark.parametrize("form,message", [
    ({"name": "无部门承办", "role": "handler", "department": "", "password": "初始-Pass-1111"},
     "承办人必须属于一个部门"),
    ({"name": "坐席带部门", "role": "operator", "department": "gz-hrss",
      "password": "初始-Pass-1111"}, "只有承办人属于部门"),
    ({"name": "短密码", "role": "operator", "department": "", "password": "abc"}, "至少 8 个字符"),
    ({"name": "坐席小王", "role": "operator", "department": "", "password": "初始-Pass-1111"},
     "已被使用"),
    ({"name": "x", "role": "operator", "department": "", "password": "初始-Pass-1111"}, "用户名"),
    ({"name": "国王", "role": "king", "department": "", "password": "初始-Pass-1111"}, "角色"),
])
def test_a_wrong_new_account_is_refused_with_the_reason_and_nothing_made(staff, console_as,
                                                                         form, message):
    from sqlalchemy import func, select

    from hotline.models import User

    before = db.session.scalar(select(func.count()).select_from(User))
    admin = console_as("admin")
    resp = post_form(admin, "/console/admin/users", "/console/admin/users", **form)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_the_admin_sees_a_locked_user_and_unlocks_them(app, staff, console_as):
    for _ in range(10):
        sign_in(app.test_client(), "贵阳承办", "wrong-password-x")
    admin = console_as("admin")
    listing = admin.get("/console/admin/users").get_data(as_text=True)
    assert "有 1 个账号因连续密码错误被锁定" in listing
    assert 'data-locked="贵阳承办"' in listing
    url = account_url(staff["other_handler"])
    resp = post_form(admin, url, f"{url}/unlock")
    assert resp.status_code == 302
    assert "已解除锁定" in admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "data-locked" not in admin.get("/console/admin/users").get_data(as_text=True)
    assert sign_in(app.test_client(), "贵阳承办").status_code == 302


def test_role_change_from_the_page_ends_the_users_sessions(staff, console_as):
    clerk = console_as("handler")
    admin = console_as("admin")
    url = account_url(staff["handler"])
    resp = post_form(admin, url, f"{url}/role", role="supervisor", department="")
    assert resp.status_code == 302
    assert clerk.get("/console/cases").status_code == 302
    db.session.refresh(staff["handler"])
    assert (staff["handler"].role, staff["handler"].department_code) == ("supervisor", None)
    refused = post_form(admin, url, f"{url}/role", role="handler", department="")
    assert refused.status_code == 400 and "承办人必须属于一个部门" in refused.get_data(as_text=True)


def test_deactivating_from_the_page_refuses_the_open_session_on_its_next_click(staff,
                                                                              console_as):
    clerk = console_as("handler")
    admin = console_as("admin")
    url = account_url(staff["handler"])
    assert post_form(admin, url, f"{url}/active", active="false").status_code == 302
    resp = clerk.get("/console/cases")
    assert resp.status_code == 302 and "why=ended" in resp.headers["Location"]
    # An admin cannot lock themself out.
    own = account_url(staff["admin"])
    refused = post_form(admin, own, f"{own}/active", active="false")
    assert refused.status_code == 409 and "不能停用自己的账号" in refused.get_data(as_text=True)


def test_a_password_reset_from_the_page_forces_a_new_password(app, staff, console_as):
    admin = console_as("admin")
    url = account_url(staff["operator"])
    assert post_form(admin, url, f"{url}/password", password="临时-Pass-2222").status_code == 302
    assert sign_in(app.test_client(), "坐席小王", PASSWORD).status_code == 401
    client = app.test_client()
    assert sign_in(client, "坐席小王", "临时-Pass-2222").status_code == 302
    assert client.get("/console/cases").headers["Location"] == "/console/password"


def test_a_token_is_shown_once_and_can_be_revoked_from_the_page(api, staff, console_as):
    admin = console_as("admin")
    url = account_url(staff["supervisor"])
    page = post_form(admin, url, f"{url}/token", days="30").get_data(as_text=True)
    token = re.search(r'id="token-value">(hl_[^<]+)<', page).group(1)
    assert api.get("/me", token).status_code == 200
    assert token not in admin.get(url).get_data(as_text=True)  # shown that once only
    assert post_form(admin, url, f"{url}/revoke-token").status_code == 302
    refused = api.get("/me", token)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "token_revoked"
    bad = post_form(admin, url, f"{url}/token", days="三十")
    assert bad.status_code == 400 and "整数" in bad.get_data(as_text=True)


def test_the_account_log_page_lists_and_filters_by_user(app, staff, console_as):
    sign_in(app.test_client(), "坐席小王", "wrong-password-x")
    admin = console_as("admin")
    page = admin.get("/console/admin/auth-events?user=坐席小王").get_data(as_text=True)
    assert "登录失败" in page and "密码错误" in page
    assert "督办老李" not in page.split("<table", 1)[1]
    everyone = admin.get("/console/admin/auth-events").get_data(as_text=True)
    assert "督办老李" in everyone  # created, among others
    wrong = admin.get("/console/admin/auth-events?kind=nonsense")
    assert wrong.status_code == 200 and "查询条件有误" in wrong.get_data(as_text=True)


@pytest.mark.parametrize("role", ["operator", "supervisor", "handler"])
def test_account_pages_are_for_admins_only(staff, console_as, role):
    client = console_as(role)
    assert "账号管理" not in client.get("/console/cases").get_data(as_text=True)
    for url in ("/console/admin/users", "/console/admin/auth-events",
                account_url(staff["operator"])):
        assert client.get(url).status_code == 403
    url = account_url(staff["operator"])
    resp = post_form(client, "/console/cases", f"{url}/active", active="false")
    assert resp.status_code == 403
    db.session.refresh(staff["operator"])
    assert staff["operator"].active is True
