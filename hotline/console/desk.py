"""The operator's desk (接线台): log a call in under a minute, keyboard first.

`/console/desk` is the new-case form; as the operator types, `desk.js` asks `/console/desk/assist`
for routing's suggestion, the caller's likely duplicates and earlier cases, and
`/console/desk/knowledge` for earlier answers (即时答复). `/console/calls/<CallSid>` is the same form
for a Twilio call the operator answered. Filing goes through `hotline.filing` (the API's rules:
`services.create_case`, the call service of `POST /api/v1/calls/<CallSid>/case`), with the
form's idempotency key, so a double submit makes one case.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from .. import filing
from ..api.schemas import CaseCreateSchema, CaseListQuerySchema
from ..domain import case_numbers, phones
from ..domain.errors import DomainError, Forbidden, NotFound
from ..domain.lifecycle import Kind, Priority, Role
from ..extensions import db
from ..knowledge import search_answers
from ..models import Call, Case, CaseEvent, Category, Department, Line
from ..models.calls import callable_number
from ..models.types import utcnow
from ..regions import counties, prefectures, region_name
from ..reports.scope import case_list_conditions
from ..wiring import provider
from . import bp

DESK_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
ENTERPRISE_LINES = frozenset({"zhitongche"})  # 省长直通车 asks for the enterprise's name
EARLIER_LIMIT = 8
# The form's fields as the operator reads them, for messages.
LABELS = {"line": "线路", "category": "类别", "content": "来电内容", "name": "来电人姓名",
          "phone": "联系电话", "enterprise": "企业名称", "region": "所在地区",
          "department": "承办单位", "kind": "办理方式", "answer": "即时答复",
          "public_consent": "是否愿意公开", "case": "工单", "received_at": "来电时间"}
MESSAGES = {"Missing data for required field.": "必填。", "Must not be empty.": "不能为空。",
            "Not a valid phone number.": "号码格式不正确。",
            "Must be an administrative division code of 6, 9 or 12 digits.": "请从列表中选择地区。"}


def require_desk() -> None:
    """The desk is the operators' (supervisors and admins may use it too)."""
    if g.user.role not in DESK_ROLES:
        raise Forbidden("接线台供坐席和督办使用。")


# --- what the form shows -------------------------------------------------------------------

def lines_with_categories() -> list[dict[str, Any]]:
    lines = db.session.scalars(select(Line).where(Line.active.is_(True)).order_by(Line.id)).all()
    cats = db.session.scalars(select(Category).order_by(Category.id)).all()
    return [{"code": line.code, "name": line.name, "phone": line.phone_number,
             "categories": [(c.code, c.name) for c in cats if c.line_id == line.id]}
            for line in lines]


def last_line_of(user_name: str) -> str | None:
    """The line of the last case this operator filed: the desk starts there next time."""
    return db.session.scalar(
        select(Line.code).join(Case, Case.line_id == Line.id)
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(CaseEvent.action == "create", CaseEvent.actor == user_name)
        .order_by(CaseEvent.id.desc()).limit(1))


def departments() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Department).where(Department.active.is_(True))
                              .order_by(Department.code))
    return [(d.code, d.name) for d in rows]


def render_desk(values: dict[str, Any], errors: dict[str, str] | None = None,
                call: Call | None = None, status: int = 200, saved: Case | None = None):
    lines = lines_with_categories()
    codes = [line["code"] for line in lines]
    if values.get("line") not in codes:
        values["line"] = last_line_of(g.user.name) or (codes[0] if codes else "")
    from .queues import queue_counts

    return render_template(
        "console/desk.html", values=values, errors=errors or {}, call=call, saved=saved,
        lines=lines, departments=departments(), prefectures=prefectures(),
        counties=counties(), enterprise_lines=ENTERPRISE_LINES, labels=LABELS,
        form_key=secrets.token_urlsafe(16), counts=queue_counts(),
        post_url=url_for("console.call_desk", call_sid=call.call_sid) if call
        else url_for("console.desk")), status


# --- filing ----------------------------------------------------------------------------------

def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def form_values() -> dict[str, Any]:
    f = request.form
    keys = ("line", "category", "content", "name", "phone", "enterprise", "region", "department",
            "kind", "answer", "knowledge_case", "key")
    values: dict[str, Any] = {k: (f.get(k) or "").strip() for k in keys}
    values["public_consent"] = f.get("public_consent") == "on"
    values["urgent"] = f.get("urgent") == "on"
    return values


def intake_data(values: dict[str, Any], *, with_line: bool = True) -> dict[str, Any]:
    """What the form says, as the API's intake body."""
    citizen = {"name": _blank_to_none(values["name"]), "phone": _blank_to_none(values["phone"])}
    if values.get("line") in ENTERPRISE_LINES or values.get("enterprise"):
        citizen["enterprise"] = _blank_to_none(values["enterprise"])
    data: dict[str, Any] = {
        "content": values["content"], "category": _blank_to_none(values["category"]),
        "kind": values["kind"] if values["kind"] in (Kind.HANDLE, Kind.INFORM) else Kind.HANDLE,
        "citizen": citizen, "region": _blank_to_none(values["region"]),
        "public_consent": values["public_consent"],
        "priority": Priority.URGENT if values.get("urgent") else Priority.NORMAL,
    }
    if values["department"] and not values["answer"]:
        data["department"] = values["department"]
    if with_line:
        data.update(line=values["line"], channel="phone")
    return data


def field_errors(messages: Any) -> dict[str, str]:
    """Marshmallow's or a domain error's fields as one Chinese sentence per form field."""
    out: dict[str, str] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list | tuple):
            text = " ".join(MESSAGES.get(str(m), str(m)) for m in value if not isinstance(m, dict))
            out[key] = f"{LABELS.get(key, key)}：{text}"

    walk(messages or {}, "")
    return out


def file_from_form(call: Call | None):
    values = form_values()
    if call is not None:
        values["line"] = call.line.code
    if not values["answer"]:
        values["knowledge_case"] = ""
    key = f"{g.user.id}:desk:{values['key']}" if values["key"] else None
    try:
        data = CaseCreateSchema().load(intake_data(values))
        if len(values["answer"]) > 20000:
            raise ValidationError({"answer": ["太长了。"]})
        if call is not None:
            body = {k: v for k, v in data.items() if k not in ("line", "channel")}
            body.update({k: values[k] for k in ("answer", "knowledge_case") if values[k]})
            case, _ = filing.log_call(call, body, g.actor, key)
        else:
            case, _ = filing.file_case(data, g.actor, answer=values["answer"] or None,
                                       knowledge_case=values["knowledge_case"] or None,
                                       idempotency_key=key)
    except ValidationError as exc:
        return render_desk(values, field_errors(exc.messages), call, 400)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        db.session.rollback()
        errors = field_errors(exc.fields) if exc.fields else {}
        errors.setdefault("", exc.message)
        return render_desk(values, errors, call, exc.status)
    return redirect(url_for("console.desk", saved=case.number, line=case.line.code))


@bp.route("/desk", methods=["GET", "POST"])
def desk():
    require_desk()
    if request.method == "POST":
        return file_from_form(None)
    saved = None
    if request.args.get("saved"):
        saved = db.session.scalar(select(Case).where(Case.number == request.args["saved"]))
    return render_desk({"line": request.args.get("line", "")}, saved=saved)


@bp.route("/calls/<call_sid>", methods=["GET", "POST"])
def call_desk(call_sid: str):
    """The form for a call the operator answered: line, caller's number and recording filled."""
    require_desk()
    call = filing.find_call(call_sid)
    if call is None:
        raise NotFound(f"no call {call_sid}")
    if request.method == "POST":
        return file_from_form(call)
    if call.case is not None:
        return redirect(url_for("console.case", number=call.case.number))
    return render_desk({"line": call.line.code,
                        "phone": phones.display(callable_number(call.from_number))}, call=call)


# --- as the operator types -------------------------------------------------------------------

def earlier_cases(phone: str, name: str, find: str) -> tuple[str, list[Case]]:
    """The caller's earlier cases: by what was typed in the finder (a case number, a phone or a
    name), else by the form's phone, else by its name. Scoped like the case list."""
    args: dict[str, str] = {}
    how = ""
    if find:
        if case_numbers.canonical(find):
            args, how = {"q": case_numbers.canonical(find)}, "工单号"
        elif re.fullmatch(r"[+\d][\d\s\-]{4,}", find):
            args, how = {"phone": find}, "电话"
        else:
            args, how = {"name": find}, "姓名"
    elif len(re.sub(r"\D", "", phone)) >= 7:
        args, how = {"phone": phone}, "电话"
    elif len(name) >= 2:
        args, how = {"name": name}, "姓名"
    if not args:
        return how, []
    try:
        query = CaseListQuerySchema().load(args)
    except ValidationError:
        return how, []
    rows = db.session.scalars(
        select(Case).where(*case_list_conditions(query, g.actor, utcnow()))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(EARLIER_LIMIT)).all()
    return how, rows


@bp.get("/desk/assist")
def assist():
    """Routing's suggestion, likely duplicates and the caller's earlier cases, as a fragment."""
    require_desk()
    a = request.args
    line = (a.get("line") or "")[:32]
    content = (a.get("content") or "")[:2000].strip()
    phone = (a.get("phone") or "")[:32].strip()
    region = (a.get("region") or "").strip()
    suggestion = None
    suggest = provider("suggest")  # routing's, when it is wired (hotline.wiring)
    if suggest is not None and len(content) >= 4 and line:
        region_ok = re.fullmatch(r"\d{6}(\d{3}|\d{6})?", region) is not None
        suggestion = suggest(content, line=line, region=region if region_ok else None,
                             phone=phone or None)
    how, earlier = earlier_cases(phone, (a.get("name") or "")[:100].strip(),
                                 (a.get("find") or "")[:64].strip())
    names = dict(departments())
    categories = dict(db.session.execute(
        select(Category.code, Category.name).join(Line, Category.line_id == Line.id)
        .where(Line.code == line)).all())
    return render_template("console/_desk_assist.html", s=suggestion, earlier=earlier, how=how,
                           departments=names, categories=categories, region_name=region_name,
                           now=dt.datetime.now(dt.UTC))


@bp.get("/desk/knowledge")
def knowledge():
    """Earlier answers matching the caller's question (即时答复), as a fragment."""
    require_desk()
    q = (request.args.get("q") or "")[:200].strip()
    line = (request.args.get("line") or "")[:32] or None
    items = search_answers(q, line=line, limit=5)[1] if q else []
    return render_template("console/_desk_knowledge.html", items=items, q=q)


@bp.get("/calls/<call_sid>/recording")
def call_recording(call_sid: str):
    """The call's recording, fetched from the phone channel (Twilio's media needs the account's
    credentials; the page may play media only from this site)."""
    require_desk()
    call = filing.find_call(call_sid)
    fetch = provider("recording")  # the phone channel's (hotline.wiring)
    if call is None or not call.recording_url or fetch is None:
        raise NotFound("no recording")
    body, content_type = fetch(call.recording_url)
    return Response(body, mimetype=content_type,
                    headers={"Content-Disposition": f'inline; filename="{call_sid}.wav"'})


@bp.app_template_filter("spaced_number")
def spaced_number(number: str) -> str:
    """A case number as it is read out to the caller: FP 2026 1207 - 0001."""
    return case_numbers.spaced(number)
