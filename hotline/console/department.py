"""The department's desk (承办工作台, /console/department): a handler's home. Its queue soonest
deadline first with tabs, signing for (签收), returning (退单) and asking for more time (延期)
from a queue row, the department's own figures, and a small JSON feed the page polls so that a
clerk sees a new case arrive without reloading.

The rules are the core's: the queue and figures come from `hotline.department_desk`, the
actions go through `services.act` exactly as the API's, with the version the clerk saw.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy import select

from .. import department_desk as desk
from .. import services
from ..api.schemas import ACTION_SCHEMAS
from ..domain.errors import DomainError, StaleVersion, ValidationFailed
from ..domain.lifecycle import Role
from ..extensions import db
from ..models import Department
from . import bp

DEFAULT_POLL_SECONDS = 15
PER_PAGE = 50
ACTION_NAMES = {"accept": "签收", "return": "退回", "extension": "申请延期"}
FIELD_HELP = {"reason": "请写明理由。", "working_days": "延期天数应为 1 至 30 个工作日。",
              "version": "页面已过期，请刷新后再试。", "note": "备注太长。"}


def _department() -> Department | None:
    """The department whose desk this is: a handler's own; another role picks one."""
    if g.actor.role == Role.HANDLER:
        code = g.actor.department_code
    else:
        code = request.values.get("department") or None
    if not code:
        return None
    dep = db.session.scalar(select(Department).where(Department.code == code))
    if dep is None:
        abort(404)
    return dep


def _page_args() -> tuple[str, int]:
    tab = request.args.get("tab", "all")
    if tab not in desk.TAB_CODES:
        tab = "all"
    page = request.args.get("page", "1")
    return tab, int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1


def _mine() -> bool:
    """"Mine" (我的): only the cases assigned to the signed-in handler."""
    return request.args.get("mine") == "1" and g.actor.role == Role.HANDLER


@bp.get("/department")
def department():
    dep = _department()
    if dep is None:
        if g.actor.role == Role.HANDLER:
            return render_template("console/error.html", title="没有所属单位",
                                   message="您的账号没有所属承办单位，请联系管理员。"), 403
        departments = db.session.scalars(select(Department).where(Department.active)
                                          .order_by(Department.code)).all()
        return render_template("console/department_pick.html", departments=departments)
    tab, page = _page_args()
    mine = _mine()
    now = dt.datetime.now(dt.UTC)
    queue = desk.queue(g.actor, dep.code, tab, page=page, per_page=PER_PAGE, now=now, mine=mine)
    args = {"tab": tab} | ({"department": dep.code} if g.actor.role != Role.HANDLER else {}) \
        | ({"mine": "1"} if mine else {})
    others = {k: v for k, v in args.items() if k != "mine"}
    mine_url = url_for("console.department", **(others if mine else others | {"mine": "1"}))
    return render_template(
        "console/department.html", dep=dep, queue=queue, tabs=desk.TABS, args=args,
        mine_url=mine_url,
        figures=desk.figures(dep.code, now), now=now, page=queue.page, total=queue.total,
        per_page=queue.per_page,
        poll_seconds=current_app.config.get("CONSOLE_POLL_SECONDS", DEFAULT_POLL_SECONDS))


@bp.get("/department/feed")
def department_feed():
    """The open desk's poll: the tab's first rows (rendered as on the page) and the counts."""
    dep = _department()
    if dep is None:
        abort(404)
    tab, page = _page_args()
    now = dt.datetime.now(dt.UTC)
    queue = desk.queue(g.actor, dep.code, tab, page=page, per_page=PER_PAGE, now=now,
                       mine=_mine())
    rows = [{"number": row.case.number, "status": row.case.status,
             "html": render_template("console/_desk_row.html", row=row, queue=queue, now=now,
                                     dep=dep)}
            for row in queue.rows]
    return jsonify({"department": dep.code, "tab": queue.tab, "total": queue.total,
                    "counts": queue.counts, "rows": rows})


def _form_body(action: str) -> dict[str, Any]:
    """The action's body from the row's form, checked by the API's schema of that action."""
    body: dict[str, Any] = {}
    for key in ("reason", "note", "working_days", "version"):
        value = request.form.get(key)
        if value is None or (key == "note" and not value.strip()):
            continue
        body[key] = int(value) if key in ("working_days", "version") and value.isdigit() \
            else value
    fields = ACTION_SCHEMAS[action]().fields
    return ACTION_SCHEMAS[action]().load({k: v for k, v in body.items() if k in fields})


@bp.post("/department/cases/<number>/<action>")
def department_act(number: str, action: str):
    if action not in desk.ROW_ACTIONS:
        abort(404)
    dep = _department()
    back = url_for("console.department", tab=request.form.get("tab") or "all",
                   **({"department": dep.code} if dep and g.actor.role != Role.HANDLER else {}))
    services.get_case(number, g.actor)  # another department's case: the not-found page
    try:
        services.act(number, action, g.actor, _form_body(action))
    except (ValidationError, ValidationFailed) as exc:
        db.session.rollback()
        wrong = exc.messages if isinstance(exc, ValidationError) else exc.fields
        problems = [FIELD_HELP.get(k, "填写有误。") for k in wrong or {"": None}]
        flash(f"{number} 未能{ACTION_NAMES[action]}：{''.join(dict.fromkeys(problems))}", "error")
        return redirect(back)
    except StaleVersion:
        db.session.rollback()
        flash(f"{number} 已被他人更改，未能{ACTION_NAMES[action]}。请查看最新状态后再操作。", "error")
        return redirect(back)
    except DomainError as exc:
        if exc.status in (403, 404):  # not this user's to do, or not this user's to see
            raise
        db.session.rollback()
        flash(f"{number} 未能{ACTION_NAMES[action]}：当前状态下不能这样办理（{exc.message}）。",
              "error")
        return redirect(back)
    done = {"accept": "已签收", "return": "已退回", "extension": "延期申请已提交"}[action]
    flash(f"{number} {done}。", "ok")
    return redirect(back)
