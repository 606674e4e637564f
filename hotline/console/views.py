"""Sign-in, sign-out, one's own password, the landing page and the case search of the console."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from .. import listing
from ..api.schemas import CaseListQuerySchema
from ..domain import phones
from ..domain.errors import DomainError, NotFound, ValidationFailed
from ..domain.lifecycle import Role, instruction_overdue, is_overdue
from ..domain.staff import AccountEvent
from ..extensions import db
from ..identity import change_own_password, record, sign_in_attempt
from ..models import Department, Line
from ..reports.scope import CHANNEL_NAMES, KIND_NAMES, STATUS_NAMES, case_list_conditions
from ..webforms import CsrfFailed, csrf_token
from . import bp, nav
from .session import safe_next, sign_in, sign_out

ROLE_NAMES = {Role.OPERATOR: "坐席", Role.HANDLER: "承办人", Role.SUPERVISOR: "督办",
              Role.ADMIN: "管理员"}
# What the sign-in page says when it refuses, and with which status.
SIGN_IN_REFUSALS = {
    "wrong": (401, "用户名或密码不正确。"),
    "locked": (423, "该账号因连续多次密码错误已被锁定，请在 {until} 后再试，或请管理员解锁。"),
    "address": (429, "本机登录失败次数过多，请在 {until} 后再试。"),
}
WHY = {"idle": "长时间未操作，已自动退出，请重新登录。",
       "ended": "登录已失效（账号被停用、密码或权限已变更），请重新登录。"}


# Staff read a number the way it is written in China (13985012345, 0851-86833668).
bp.add_app_template_filter(phones.display, "phone_display")


@bp.app_template_filter("local_time")
def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    from ..domain.deadlines import PROVINCE_TZ

    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PROVINCE_TZ).strftime(fmt)


def page_filters(schema: Schema, raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A list page's filters read by the API's query schema, and the messages of the ones it
    refused: where the API answers 400, the page lists as if no filter was given and says which
    one was wrong."""
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        return schema.load({}), exc.messages if isinstance(exc.messages, dict) else {}


def case_list_page(conditions: list[Any], order: listing.Order, args: dict[str, Any],
                   cursor: str | None, errors: dict[str, Any]) -> listing.CasePage:
    """The page of a console case list that `args` asks for. The next-page link carries the
    list's cursor as well as the page's number: the cursor enters the list right after the
    previous page's last row, so the 500th page costs what the first does, and `page` only
    numbers it. A cursor the list did not give out (an old bookmark, another ordering) is said
    in `errors` and the numbered page is shown instead."""
    if cursor is not None:
        try:
            return listing.case_page(conditions, order, sort=args["sort"],
                                     per_page=args["per_page"], cursor=cursor)
        except ValidationFailed:
            errors["cursor"] = ["翻页链接已失效，已按页码显示。"]
    return listing.case_page(conditions, order, sort=args["sort"], page=args["page"],
                             per_page=args["per_page"])


@bp.context_processor
def console_globals() -> dict[str, Any]:
    user = g.get("user")
    return {
        "csrf_token": csrf_token,
        "me": user,
        "nav_items": nav.items_for(user.role) if user else [],
        "role_names": ROLE_NAMES,
        "status_names": STATUS_NAMES,
        "channel_names": CHANNEL_NAMES,
        "kind_names": KIND_NAMES,
        "is_overdue": is_overdue,
        "instruction_overdue": instruction_overdue,
    }


@bp.after_request
def console_headers(response):
    # Staff pages hold citizens' personal data: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# --- errors: pages, not JSON ----------------------------------------------------------------

def error_page(status: int, title: str, message: str):
    db.session.rollback()
    return render_template("console/error.html", title=title, message=message), status


@bp.errorhandler(NotFound)
def not_found(exc: NotFound):
    return error_page(404, "没有找到", "没有这个工单或页面，或者您无权查看。")


@bp.errorhandler(CsrfFailed)
def csrf_failed(exc: CsrfFailed):
    return error_page(400, "表单已失效", "页面已过期或不是从本系统提交的，什么也没有改变。"
                      "请返回、刷新页面后再试。")


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    return error_page(exc.status, "无法完成", exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    titles = {404: "没有找到", 405: "不支持的操作", 413: "文件太大"}
    return error_page(exc.code or 500, titles.get(exc.code or 0, "无法完成"),
                      exc.description or exc.name)


# The handlers above, for the pages other areas add (`console.extension_pages`).
ERROR_PAGES = ((NotFound, not_found), (CsrfFailed, csrf_failed), (DomainError, domain_error),
               (HTTPException, http_error))


# --- sign-in --------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("console/login.html", next=target,
                               notice=WHY.get(request.args.get("why", "")))
    name = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    result = sign_in_attempt(name, password)
    if result.user is None:
        status, error = SIGN_IN_REFUSALS[result.refusal or "wrong"]
        if result.until is not None:
            error = error.format(until=local_time(result.until, "%H:%M"))
        return render_template("console/login.html", next=target, username=name,
                               error=error, refusal=result.refusal), status
    sign_in(result.user)
    return redirect(target or url_for("console.index"))


@bp.post("/logout")
def logout():
    record(AccountEvent.SIGN_OUT, g.user.name)
    db.session.commit()
    sign_out()
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    if request.method == "GET":
        return render_template("console/password.html")
    new = request.form.get("new") or ""
    if new != (request.form.get("confirm") or ""):
        return render_template("console/password.html", error="两次输入的新密码不一致。"), 400
    try:
        change_own_password(g.user, request.form.get("current") or "", new)
    except DomainError as exc:
        messages = [m for ms in (exc.fields or {}).values() for m in ms] or [exc.message]
        return render_template("console/password.html", error=" ".join(messages)), 400
    db.session.commit()
    sign_in(g.user)  # this browser stays signed in under the new password
    return redirect(url_for("console.index"))


@bp.get("/")
def index():
    return redirect(url_for(nav.home_endpoint(g.user.role)))


# --- case search ----------------------------------------------------------------------------

@bp.get("/cases")
def cases():
    """The case list of the API as a page: the same filters, the same scoping."""
    raw = {k: v for k, v in request.args.items() if v.strip() != ""}
    cursor = raw.pop("cursor", None)
    args, errors = page_filters(CaseListQuerySchema(), raw)
    conditions = case_list_conditions(args, g.actor, dt.datetime.now(dt.UTC))
    page, per_page = args["page"], args["per_page"]
    found = case_list_page(conditions, listing.LIST_ORDER[args["sort"]], args, cursor, errors)
    rows, total = found.rows, found.total
    departments = {d.code: d.name for d in db.session.scalars(select(Department))}
    lines = {line.code: line.name for line in db.session.scalars(select(Line))}
    return render_template("console/cases.html", rows=rows, total=total,
                           total_exact=found.total_exact, page=page,
                           next_cursor=found.next_cursor, per_page=per_page, args=raw, errors=errors, departments=departments,
                           lines=lines, now=dt.datetime.now(dt.UTC))
