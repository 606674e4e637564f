"""The admin's pages of WeChat official accounts and Open311 keys: credentials are entered and
never shown again, a key is shown once, every change is on the audit list without its secret;
bad input says why and changes nothing; non-admins get 403."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from channels.open311.models import Open311ApiKey
from channels.wechat.accounts import from_row
from channels.wechat.models import WeChatAccount
from hotline.extensions import db
from hotline.models import AdminAudit

from .conftest import post_form, refused, saved

AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"
ACCOUNT = {"code": "zunyi", "name": "遵义12345", "appid": "wx1234567890abcdef",
           "line": "board", "token": "ZunyiToken2026", "secret": "s3cr3t-app-secret-遵义",
           "aes_key": AES_KEY, "template_id": ""}


@pytest.mark.parametrize("role", ["operator", "supervisor", "handler"])
def test_channel_settings_are_for_admins_only(console_as: Any, role: str) -> None:
    client = console_as(role)
    for path in ("/console/admin/wechat", "/console/admin/open311"):
        assert client.get(path).status_code == 403


def test_admin_adds_an_account_whose_credentials_are_never_shown(console_as: Any) -> None:
    client = console_as("admin")
    resp = saved(client, "/console/admin/wechat", "/console/admin/wechat", ACCOUNT)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "/channels/wechat/zunyi" in page and "公众号已添加" in page
    assert "已设置（安全模式）" in page
    for secret in (ACCOUNT["token"], ACCOUNT["secret"], AES_KEY):
        assert secret not in page
        assert secret not in client.get("/console/admin/wechat").get_data(as_text=True)
    row = db.session.scalars(select(WeChatAccount)).one()
    assert from_row(row).secret == ACCOUNT["secret"]  # stored, encrypted, usable
    entry = db.session.scalars(select(AdminAudit).where(
        AdminAudit.kind == "wechat_account")).one()
    assert (entry.actor, entry.via, entry.target) == ("admin", "console", "zunyi")
    assert entry.changes["secret_enc"] == {"old": None, "new": "（已设置）"}
    assert ACCOUNT["secret"] not in str(entry.changes)


def test_a_blank_credential_stays_and_a_new_one_replaces_it(console_as: Any) -> None:
    client = console_as("admin")
    post_form(client, "/console/admin/wechat", "/console/admin/wechat", ACCOUNT)
    page = "/console/admin/wechat/zunyi"
    saved(client, page, page, {"name": "遵义市民热线", "line": "fupin",
                               "template_id": "", "token": "", "secret": "新的秘密"})
    row = db.session.scalars(select(WeChatAccount)).one()
    db.session.refresh(row)
    account = from_row(row)
    assert (account.name, account.line_code, account.token, account.secret) == (
        "遵义市民热线", "fupin", ACCOUNT["token"], "新的秘密")
    entry = db.session.scalars(select(AdminAudit).where(
        AdminAudit.kind == "wechat_account", AdminAudit.action == "update")).one()
    assert entry.changes["secret_enc"] == {"old": "（已设置）", "new": "（已更换）"}
    assert entry.changes["line_code"] == {"old": "board", "new": "fupin"}
    assert entry.changes["name"] == {"old": "遵义12345", "new": "遵义市民热线"}
    assert "token_enc" not in entry.changes and "新的秘密" not in str(entry.changes)


@pytest.mark.parametrize("over, text", [
    ({"appid": "not-an-appid"}, "Not a WeChat appid"),
    ({"aes_key": "short"}, "43-character"),
    ({"line": "nope"}, "No line"),
    ({"token": ""}, "Token：必填"),
])
def test_a_bad_account_is_refused_and_its_secrets_not_echoed(console_as: Any, over: dict,
                                                            text: str) -> None:
    client = console_as("admin")
    html = refused(client, "/console/admin/wechat", "/console/admin/wechat",
                   {**ACCOUNT, **over})
    assert text in html and ACCOUNT["secret"] not in html
    assert db.session.scalar(select(func.count()).select_from(WeChatAccount)) == 0
    assert db.session.scalar(select(func.count()).select_from(AdminAudit).where(
        AdminAudit.kind == "wechat_account")) == 0


def test_an_open311_key_is_shown_once_then_only_its_prefix(console_as: Any) -> None:
    client = console_as("admin")
    resp = post_form(client, "/console/admin/open311", "/console/admin/open311",
                     {"name": "贵阳市民App", "contact": "信息中心 王工"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    key = html.split('id="key-value">', 1)[1].split("<", 1)[0]
    assert key.startswith("o311_") and len(key) > 30
    again = client.get("/console/admin/open311").get_data(as_text=True)
    assert key not in again and key[:12] + "…" in again
    row = db.session.scalars(select(Open311ApiKey)).one()
    assert row.key_hash == Open311ApiKey.hash_key(key)
    saved(client, "/console/admin/open311", f"/console/admin/open311/{row.id}/revoke",
          {})
    db.session.refresh(row)
    assert row.revoked_by == "admin"
    entries = db.session.scalars(select(AdminAudit).where(AdminAudit.kind == "open311_key")
                                 .order_by(AdminAudit.id)).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert key not in " ".join(str(e.changes) for e in entries)
    assert entries[1].changes["revoked_by"] == {"old": None, "new": "admin"}


def test_a_taken_key_name_is_refused(console_as: Any) -> None:
    client = console_as("admin")
    post_form(client, "/console/admin/open311", "/console/admin/open311", {"name": "贵阳市民App"})
    resp = post_form(client, "/console/admin/open311", "/console/admin/open311",
                     {"name": "贵阳市民App"})
    assert resp.status_code == 409 or resp.status_code == 400
    assert "已有名为 贵阳市民App 的密钥" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Open311ApiKey)) == 1
