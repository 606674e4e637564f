"""The admin's page of Open311 API keys in the staff console (/console/admin/open311): the keys
with their prefix, use and state; a new key is shown once, on the page that issued it, and never
again (only its hash is kept); revoking stops it at once."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from sqlalchemy import select

from hotline.console import extension_pages
from hotline.console.admin import admin_only
from hotline.console.settings import attempt, error_text
from hotline.extensions import db

from . import keys
from .admin import KeyCreateSchema
from .models import Open311ApiKey

bp = extension_pages("open311_console", __name__, "/console/admin/open311",
                     template_folder="templates")


def _page(status: int = 200, **context: Any):
    rows = list(db.session.scalars(select(Open311ApiKey).order_by(Open311ApiKey.id.desc())))
    done = "密钥已吊销，使用它的请求即刻被拒绝。" if request.args.get("done") == "revoked" else None
    return render_template("open311_console/keys.html", keys=rows, done=done,
                           **context), status


@bp.route("", methods=["GET", "POST"])
@admin_only
def keys_page():
    if request.method == "GET":
        return _page()
    form = {k: (request.form.get(k) or "").strip() for k in ("name", "contact")}
    data = {k: v for k, v in form.items() if v}
    issued, errors = attempt(lambda: _issue(data))
    if errors:
        return _page(400, form=form, error=error_text(errors))
    key, secret = issued
    return _page(new_key=key, secret=secret)


def _issue(data: dict[str, str]) -> tuple[Open311ApiKey, str]:
    body = KeyCreateSchema().load(data)
    return keys.issue_key(body["name"], body.get("contact"), g.user.name)


@bp.post("/<int:key_id>/revoke")
@admin_only
def revoke(key_id: int):
    keys.revoke_key(keys.find_key(key_id), g.user.name)
    return redirect(url_for("open311_console.keys_page", done="revoked"))
