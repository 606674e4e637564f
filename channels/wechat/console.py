"""The admin's page of WeChat official accounts in the staff console (/console/admin/wechat):
each account with its webhook address, line and state; credentials are entered, never shown
again (the page says only whether each is set). The forms go through the API's schemas and
call the same functions (`accounts.add_account`, `accounts.change_account`)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, render_template, request, url_for
from sqlalchemy import select

from hotline.console import extension_pages
from hotline.console.admin import admin_only
from hotline.console.settings import attempt, error_text
from hotline.extensions import db
from hotline.models import Line

from .accounts import account_row, add_account, change_account, environment_account
from .admin import AccountCreateSchema, AccountUpdateSchema, account_json
from .models import WeChatAccount

bp = extension_pages("wechat_console", __name__, "/console/admin/wechat",
                     template_folder="templates")

CREDENTIALS = ("token", "secret", "aes_key")
DONE = {"created": "公众号已添加。请在微信公众平台把服务器地址设为下面的接入地址。",
        "saved": "公众号设置已保存。"}


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {k: (request.form.get(k) or "").strip() for k in names}


def _webhook_url(path: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + path


def _page(status: int = 200, **context: Any):
    rows = list(db.session.scalars(select(WeChatAccount).order_by(WeChatAccount.id)))
    env = environment_account()
    return render_template(
        "wechat_console/accounts.html", accounts=[account_json(r) for r in rows], env=env,
        lines=list(db.session.scalars(select(Line).order_by(Line.id))),
        webhook_url=_webhook_url, done=DONE.get(request.args.get("done", "")),
        **context), status


@bp.route("", methods=["GET", "POST"])
@admin_only
def accounts():
    if request.method == "GET":
        return _page()
    form = _form(("code", "name", "appid", "line", "token", "secret", "aes_key",
                  "template_id"))
    data = {k: v for k, v in form.items() if v}
    _row, errors = attempt(lambda: add_account(AccountCreateSchema().load(data), g.user.name))
    if errors:
        kept = {k: v for k, v in form.items() if k not in CREDENTIALS}  # never echoed back
        return _page(400, form=kept, error=error_text(errors))
    return redirect(url_for("wechat_console.account", code=data["code"], done="created"))


@bp.route("/<code>", methods=["GET", "POST"])
@admin_only
def account(code: str):
    row = account_row(code)
    error = None
    status = 200
    if request.method == "POST":
        form = {k: v for k, v in _form(("name", "line", "template_id") + CREDENTIALS).items()
                if k in request.form}
        # A credential left blank stays as it is; a blank template id clears it.
        data: dict[str, Any] = {k: v for k, v in form.items() if v}
        if form.get("template_id") == "":
            data["template_id"] = None
        if "active" in request.form:
            data["active"] = request.form["active"]
        _row, errors = attempt(lambda: change_account(row, AccountUpdateSchema().load(data),
                                                      g.user.name))
        if not errors:
            return redirect(url_for("wechat_console.account", code=code, done="saved"))
        error, status = error_text(errors), 400
        row = account_row(code)
    return render_template("wechat_console/account.html", account=account_json(row),
                           row=row, lines=list(db.session.scalars(select(Line))),
                           webhook_url=_webhook_url, error=error,
                           done=DONE.get(request.args.get("done", ""))), status
