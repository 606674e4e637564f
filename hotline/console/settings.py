"""The admin's settings pages (系统设置): departments with their contacts for notices, lines and
categories with their deadline policy, routing rules with a "try a message" box, the calendar's
years, and the audit list of every admin change.

Each form goes through the API's own marshmallow schema and calls the same function of
`hotline.administration` as the API, so every rule (a code is unique, a rule names things that
exist, an adjusted workday is a weekend day) holds on both; a refused form shows why, keeps what
was typed, and changes nothing. The audit entry of each change is written with it
(`hotline.audit`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app, g, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from .. import administration, audit, services
from ..api.contacts import ContactSchema
from ..api.rules import RuleSchema, RuleUpdateSchema
from ..api.schemas import (
    AuditQuerySchema,
    CalendarSchema,
    CategorySchema,
    CategoryUpdateSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    LineSchema,
    LineUpdateSchema,
)
from ..domain.errors import DomainError
from ..extensions import db
from ..models import CalendarYear, Department, Line
from ..models.contacts import CONTACT_CHANNELS
from ..wiring import provider
from . import bp
from .admin import admin_only
from .views import page_filters

CONTACT_CHANNEL_NAMES = {"sms": "短信", "wechat": "微信", "email": "电子邮件"}
REGION_LEVEL_NAMES = {"province": "省级（文中无省内地区）", "prefecture": "市州或区县",
                      "county": "区县"}
# The settings' sections, in the order of the tabs; a channel's page is listed when its area
# is loaded (`endpoint` in the app).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("console.settings_departments", "部门", "承办单位及其接收通知的联系人"),
    ("console.settings_lines", "线路与类别", "各线路和类别的签收、办理时限（工作日）"),
    ("console.settings_rules", "分类规则", "分类转办规则，保存前可先试一条留言"),
    ("console.settings_calendar", "工作日历", "各年节假日与调休上班日"),
    ("wechat_console.accounts", "微信公众号", "公众号的接入地址、线路和凭据"),
    ("open311_console.keys_page", "Open311 密钥", "对接应用的 API 密钥"),
    ("console.admin_users", "账号", "工作人员账号、角色、密码与令牌"),
    ("console.settings_audit", "操作审计", "每一项管理操作：谁、何时、改了什么"),
)
# Chinese for the schemas' messages the forms show most.
_MESSAGES = (
    (re.compile(r"^Missing data for required field\.$"), "必填。"),
    (re.compile(r"^Must not be empty\.$"), "不能为空。"),
    (re.compile(r"^Not a valid integer\.$"), "须为整数。"),
    (re.compile(r"^Not a valid number\.$"), "须为数字。"),
    (re.compile(r"^Not a valid date\.$"), "不是有效日期（应为 YYYY-MM-DD）。"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     r"须在 \1 到 \2 之间。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"不能超过 \1 个字符。"),
    (re.compile(r"^String does not match expected pattern\.$"), "格式不对。"),
    (re.compile(r"^Must be one of: .*\.$"), "不是可选的值。"),
)


def chinese(message: str) -> str:
    for pattern, replacement in _MESSAGES:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def field_errors(messages: Any) -> dict[str, str]:
    """{field: message} of a ValidationError's or a DomainError's messages, in Chinese where
    we have it; nested lists (a list of dates) are joined."""
    if not isinstance(messages, dict):
        return {"": "；".join(chinese(str(m)) for m in _flat(messages))}
    return {str(k): "；".join(chinese(str(m)) for m in _flat(v)) for k, v in messages.items()}


def _flat(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flat(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def error_text(errors: dict[str, str]) -> str:
    return " ".join(f"{audit.FIELD_NAMES.get(k, k)}：{m}" if k else m for k, m in errors.items())


def attempt(change: Callable[[], Any]) -> tuple[Any, dict[str, str]]:
    """Run a change; (result, {}) or (None, the errors by field) — and nothing changed."""
    try:
        return change(), {}
    except ValidationError as exc:
        db.session.rollback()
        return None, field_errors(exc.messages)
    except DomainError as exc:
        db.session.rollback()
        return None, field_errors(exc.fields) if exc.fields else {"": exc.message}


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _given(names: Iterable[str], *, blank_is_none: Iterable[str] = ()) -> dict[str, Any]:
    """The form's fields among `names`; a blank one is left out (its value stays), or is None
    when it is in `blank_is_none` (a category's limit left blank: the line's applies)."""
    nullable = set(blank_is_none)
    out: dict[str, Any] = {}
    for name in names:
        if name not in request.form:
            continue
        value = _text(name)
        if value:
            out[name] = value
        elif name in nullable:
            out[name] = None
    return out


def load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    return schema.load(data)


def sections() -> list[tuple[str, str, str]]:
    return [s for s in SECTIONS if s[0] in current_app.view_functions]


@bp.context_processor
def settings_globals() -> dict[str, Any]:
    return {"settings_sections": sections}


# What a page says after a change went through (`?done=`): fixed texts, so that a link
# cannot make the page say anything else.
DONE = {
    "department-created": "部门已创建。可在下面添加接收通知的联系人。",
    "department-saved": "部门信息已保存。",
    "department-deactivated": "部门已停用：不再接收新工单（在办工单不受影响）。",
    "department-activated": "部门已启用。",
    "contact-added": "联系人已添加：今后派给、催办、督办该部门的工单会通知到这里。",
    "contact-removed": "联系人已删除。",
    "contact-paused": "联系人已暂停接收通知。",
    "contact-resumed": "联系人已恢复接收通知。",
    "line-created": "线路已创建。",
    "line-saved": "线路已保存，新工单按新的时限计算。",
    "category-added": "类别已添加。",
    "category-saved": "类别已保存，新工单按新的时限计算。",
    "rule-saved": "规则已保存，下一件工单起生效。",
    "rule-deleted": "规则已删除。",
    "calendar-saved": "该年安排已保存，在办工单的期限已随之重算。",
}


def page(template: str, status: int = 200, **context: Any):
    return render_template(f"console/{template}", done=DONE.get(request.args.get("done", "")),
                           **context), status


# --- the index -----------------------------------------------------------------------------

@bp.get("/admin")
@admin_only
def settings_index():
    return page("settings_index.html")


# --- departments ---------------------------------------------------------------------------

def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.active.desc(),
                                                       Department.code)))


@bp.route("/admin/departments", methods=["GET", "POST"])
@admin_only
def settings_departments():
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: _text(k) for k in ("code", "name", "region")}
        dep, errors = attempt(lambda: administration.create_department(
            load(DepartmentSchema(), form)))
        if not errors:
            return redirect(url_for("console.settings_department", code=dep.code,
                                    done="department-created"))
    return page("settings_departments.html", 400 if errors else 200,
                departments=_departments(), form=form, errors=errors,
                error=error_text(errors))


def _department_page(dep: Department, *, status: int = 200, **context: Any):
    return page("settings_department.html", status, dep=dep,
                contacts=administration.contacts_of(dep), channels=CONTACT_CHANNELS,
                channel_names=CONTACT_CHANNEL_NAMES, **context)


@bp.get("/admin/departments/<code>")
@admin_only
def settings_department(code: str):
    return _department_page(administration.find_department(code))


@bp.post("/admin/departments/<code>")
@admin_only
def settings_department_update(code: str):
    dep = administration.find_department(code)
    data = _given(("name", "region"))
    if "active" in request.form:
        data["active"] = request.form["active"]
    _done, errors = attempt(lambda: administration.update_department(
        dep, load(DepartmentUpdateSchema(), data)))
    if errors:
        return _department_page(administration.find_department(code), status=400,
                                errors=errors, error=error_text(errors))
    done = {"false": "department-deactivated", "true": "department-activated"}.get(
        request.form.get("active", ""), "department-saved")
    return redirect(url_for("console.settings_department", code=code, done=done))


@bp.post("/admin/departments/<code>/contacts")
@admin_only
def settings_contact_add(code: str):
    dep = administration.find_department(code)
    form = {k: _text(k) for k in ("channel", "address", "name")}
    data = {k: v for k, v in form.items() if v}
    _contact, errors = attempt(lambda: administration.add_contact(
        dep, load(ContactSchema(), data)))
    if errors:
        return _department_page(administration.find_department(code), status=400,
                                contact_form=form, contact_error=error_text(errors))
    return redirect(url_for("console.settings_department", code=code,
                            done="contact-added"))


@bp.post("/admin/departments/<code>/contacts/<int:contact_id>/<any(pause, resume, remove):action>")
@admin_only
def settings_contact_change(code: str, contact_id: int, action: str):
    dep = administration.find_department(code)
    contact = administration.find_contact(dep, contact_id)
    if action == "remove":
        administration.remove_contact(contact)
        done = "contact-removed"
    else:
        administration.update_contact(contact, {"active": action == "resume"})
        done = "contact-resumed" if action == "resume" else "contact-paused"
    return redirect(url_for("console.settings_department", code=code, done=done))


# --- lines and categories ------------------------------------------------------------------

LINE_FIELDS = ("name", "phone_number", "hours", "accept_days", "reply_days", "remind_days",
               "auto_dispatch_threshold")
CATEGORY_LIMITS = ("accept_days", "reply_days", "remind_days")


def _lines_page(status: int = 200, **context: Any):
    lines = list(db.session.scalars(select(Line).order_by(Line.id)))
    return page("settings_lines.html", status, lines=lines, **context)


@bp.get("/admin/lines")
@admin_only
def settings_lines():
    return _lines_page()


@bp.post("/admin/lines")
@admin_only
def settings_line_create():
    form = {k: _text(k) for k in ("code", "name", "number_prefix", "phone_number")}
    data = {k: v for k, v in form.items() if v}
    line, errors = attempt(lambda: administration.create_line(load(LineSchema(), data)))
    if errors:
        return _lines_page(400, new_line=form, new_line_error=error_text(errors))
    return redirect(url_for("console.settings_lines", done="line-created",
                            _anchor=f"line-{line.code}"))


@bp.post("/admin/lines/<code>")
@admin_only
def settings_line_update(code: str):
    line = administration.find_line(code)
    data = _given(LINE_FIELDS, blank_is_none=("phone_number",))
    if "active" in request.form:
        data["active"] = request.form["active"]
    _line, errors = attempt(lambda: administration.update_line(
        line, load(LineUpdateSchema(), data)))
    if errors:
        return _lines_page(400, failed=("line", code), error=error_text(errors))
    return redirect(url_for("console.settings_lines", done="line-saved",
                            _anchor=f"line-{code}"))


@bp.post("/admin/lines/<code>/categories")
@admin_only
def settings_category_create(code: str):
    line = administration.find_line(code)
    form = {k: _text(k) for k in ("code", "name") + CATEGORY_LIMITS}
    data = {k: v for k, v in form.items() if v}
    _cat, errors = attempt(lambda: administration.create_category(
        line, load(CategorySchema(), data)))
    if errors:
        return _lines_page(400, failed=("new-category", code), new_category=form,
                           error=error_text(errors))
    return redirect(url_for("console.settings_lines", done="category-added",
                            _anchor=f"line-{code}"))


@bp.post("/admin/lines/<code>/categories/<cat_code>")
@admin_only
def settings_category_update(code: str, cat_code: str):
    cat = administration.find_category(administration.find_line(code), cat_code)
    data = _given(("name",) + CATEGORY_LIMITS, blank_is_none=CATEGORY_LIMITS)
    _cat, errors = attempt(lambda: administration.update_category(
        cat, load(CategoryUpdateSchema(), data)))
    if errors:
        return _lines_page(400, failed=("category", f"{code}/{cat_code}"),
                           error=error_text(errors))
    return redirect(url_for("console.settings_lines", done="category-saved",
                            _anchor=f"line-{code}"))


# --- routing rules -------------------------------------------------------------------------

RULE_TEXT_FIELDS = ("line", "category", "topic1", "region_level", "department", "note")
_KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")


def rule_form_values() -> dict[str, Any]:
    """The rule form as the rule API's body: blanks are "any" (None), keywords a list."""
    data: dict[str, Any] = {k: (_text(k) or None) for k in RULE_TEXT_FIELDS}
    data["department"] = _text("department")  # "": no department, an operator decides
    data["keywords"] = [k for k in _KEYWORD_SPLIT.split(_text("keywords")) if k]
    data["priority"] = _text("priority") or "0"
    data["active"] = request.form.get("active") == "on"
    return data


def _rules_page(template: str, status: int = 200, **context: Any):
    from ..models import Category

    categories = sorted({c for c in db.session.scalars(select(Category.code))})
    rules = administration.rules()
    topics = sorted({r.topic1 for r in rules if r.topic1})
    departments = _departments()
    return page(template, status, rules=rules, lines=list(db.session.scalars(select(Line))),
                departments=departments, categories=categories, topics=topics,
                department_names={d.code: d.name for d in departments},
                region_levels=REGION_LEVEL_NAMES, **context)


def _try(data: dict[str, Any], replacing: int | None) -> dict[str, Any] | None:
    """Routing's decision for the form's message with the form's rule in force."""
    trial = provider("try_rule")  # routing's, when it is wired (hotline.wiring)
    message = _text("message")
    if trial is None or not message:
        return None
    line = _text("message_line") or data.get("line") or "board"
    region = _text("message_region") or None
    result = trial(message[:20000], line=line, region=region, rule=data, replacing=replacing)
    result["line"] = line
    return result


def _rule_submit(rule_id: int | None):
    """Save the form's rule, or (the 试一试 button) show what routing would do with it."""
    data = rule_form_values()
    schema = RuleSchema() if rule_id is None else RuleUpdateSchema()
    rule = administration.find_rule(rule_id) if rule_id is not None else None
    template = "settings_rule.html"
    loaded, errors = attempt(lambda: load(schema, data))
    if not errors:
        _ok, errors = attempt(lambda: administration.check_rule_references(loaded))
    context: dict[str, Any] = {"rule": rule, "form": data, "message": _text("message"),
                               "message_line": _text("message_line"),
                               "message_region": _text("message_region")}
    if errors:
        return _rules_page(template, 400, errors=errors, error=error_text(errors), **context)
    if request.form.get("intent") == "try":
        if not context["message"]:
            return _rules_page(template, 400, try_error="请先输入一条要试的留言。", **context)
        return _rules_page(template, trial=_try(loaded, rule_id), **context)
    if rule is None:
        saved = administration.create_rule(loaded, g.user.name)
        done = "rule-saved"
    else:
        saved = administration.update_rule(rule, loaded, g.user.name)
        done = "rule-saved"
    return redirect(url_for("console.settings_rule", rule_id=saved.id, done=done))


@bp.get("/admin/rules")
@admin_only
def settings_rules():
    return _rules_page("settings_rules.html")


@bp.route("/admin/rules/new", methods=["GET", "POST"])
@admin_only
def settings_rule_new():
    if request.method == "POST":
        return _rule_submit(None)
    form = {"active": True, "priority": 50, "keywords": []}
    return _rules_page("settings_rule.html", rule=None, form=form)


@bp.route("/admin/rules/<int:rule_id>", methods=["GET", "POST"])
@admin_only
def settings_rule(rule_id: int):
    if request.method == "POST":
        return _rule_submit(rule_id)
    rule = administration.find_rule(rule_id)
    return _rules_page("settings_rule.html", rule=rule,
                       form=administration.rule_values(rule))


@bp.post("/admin/rules/<int:rule_id>/delete")
@admin_only
def settings_rule_delete(rule_id: int):
    administration.delete_rule(administration.find_rule(rule_id))
    return redirect(url_for("console.settings_rules", done="rule-deleted"))


# --- the calendar's years ------------------------------------------------------------------

_DATE_SPLIT = re.compile(r"[\s,，、;；]+")


def _dates(name: str) -> list[str]:
    return [d for d in _DATE_SPLIT.split(_text(name)) if d]


def _calendar_page(year: int, status: int = 200, **context: Any):
    calendar = services.work_calendar()
    holidays, workdays = calendar.year_days(year)
    row = db.session.get(CalendarYear, year)
    this_year = dt.date.today().year
    years = sorted({this_year - 1, this_year, this_year + 1, year}
                   | {y for y in db.session.scalars(select(CalendarYear.year))})
    return page("settings_calendar.html", status, year=year, years=years,
                source=calendar.source(year), published=calendar.is_published(year),
                holidays=holidays, workdays=workdays, row=row, **context)


@bp.get("/admin/calendar")
@admin_only
def settings_calendar():
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else dt.date.today().year
    administration.check_calendar_year(year)
    return _calendar_page(year)


@bp.post("/admin/calendar/<int:year>")
@admin_only
def settings_calendar_save(year: int):
    administration.check_calendar_year(year)
    form = {"holidays": _text("holidays"), "workdays": _text("workdays")}
    changed, errors = attempt(lambda: _save_year(year))
    if errors:
        return _calendar_page(year, 400, form=form, errors=errors, error=error_text(errors))
    return redirect(url_for("console.settings_calendar", year=year,
                            done="calendar-saved",
                            recounted=changed))


def _save_year(year: int) -> int:
    data = load(CalendarSchema(), {"holidays": _dates("holidays"),
                                   "workdays": _dates("workdays")})
    return administration.set_calendar_year(year, data["holidays"], data["workdays"], g.actor)


# --- the audit list ------------------------------------------------------------------------

@bp.app_template_filter("audit_value")
def audit_value(value: Any) -> str:
    """A recorded value as the list shows it: lists joined, booleans in words."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（空）"
    return str(value)


@bp.get("/admin/audit")
@admin_only
def settings_audit():
    """The audit list as a page: the API's filters (kind, target, actor), newest first."""
    raw = {k: v.strip() for k, v in request.args.items() if v.strip()}
    args, errors = page_filters(AuditQuerySchema(), raw)
    rows, total = audit.entries(**args)
    return page("settings_audit.html", rows=rows, total=total, args=raw,
                errors=field_errors(errors), page=args["page"], per_page=args["per_page"],
                kind_names=audit.KIND_NAMES, action_names=audit.ACTION_NAMES,
                via_names=audit.VIA_NAMES, field_names=audit.FIELD_NAMES)
