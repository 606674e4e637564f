"""The case page (/console/cases/<number>): one case with its file (一案一档) and the actions the
signed-in person may take on it now.

Scoped exactly as the API's `GET /api/v1/cases/<number>` — the same `services.get_case` with the
signed-in actor, so a handler of another department gets the not-found page. The buttons are
`lifecycle.allowed_actions`; each form posts to `act`, which validates with the API's own
action schemas and calls `services.act` with the version the person saw: a case changed by
someone else in between is shown again, as it is now, with "此工单已被他人修改".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields
from sqlalchemy import select

from .. import attachments, services
from ..api.schemas import ACTION_SCHEMAS, CaseCorrectionSchema
from ..domain import lifecycle, phones
from ..domain.errors import (
    DomainError,
    Forbidden,
    IllegalTransition,
    NotFound,
    StaleVersion,
    UnknownReference,
)
from ..domain.names import OUTBOX_CHANNEL_NAMES, OUTBOX_STATUS_NAMES, PRIORITY_NAMES
from ..extensions import db
from ..models import Category, Department, OutboxMessage, Survey, User
from ..reports.scope import CHANNEL_NAMES, KIND_NAMES, RATING_NAMES
from . import bp

# The timeline's steps in the words staff use (一案一档).
EVENT_NAMES = {
    "create": "登记", "dispatch": "转办", "recall": "改派", "accept": "签收", "return": "退单",
    "extension": "申请延期", "extension-decision": "延期审批", "reply": "答复",
    "review": "审核", "answer": "即时答复", "instruct": "批示", "close": "办结",
    "reopen": "重办", "correct": "更正", "attachment": "附件", "call": "来电",
    "deadline": "期限调整", "duplicate": "疑似重复", "media": "微信媒体", "supplement": "补充诉求",
    "survey": "回访", "survey_handled": "回访处理", "remind": "催办", "escalate": "督办",
    "publication_draft": "生成公开稿", "publication_edit": "修改公开稿",
    "publication_approve": "批准公开", "publication_withdraw": "撤回公开",
    "cohandle": "增加协办单位", "cohandle-part": "协办意见", "merge": "并单",
    "merged_in": "并入工单",
    "priority": "紧急程度", "assign": "分配承办人", "interim-reply": "阶段性答复",
    "instruction-feedback": "批示反馈", "internal-note": "内部备注（仅工作人员可见）",
}
# The buttons, in the lifecycle table's order.
ACTION_LABELS = {
    "dispatch": "派单", "recall": "改派", "accept": "签收", "return": "退单", "extension": "申请延期",
    "extension-decision": "延期审批", "reply": "答复", "review": "审核", "answer": "即时答复",
    "instruct": "批示", "close": "办结", "reopen": "重办",
    "cohandle": "增加协办单位", "cohandle-part": "提交协办意见", "merge": "并单",
    "priority": "紧急程度", "assign": "分配承办人", "interim-reply": "阶段性答复",
    "instruction-feedback": "批示反馈", "internal-note": "内部备注",
}
# What a step's data says, for the timeline (keys not listed are for machines: ids, hashes).
DATA_LABELS = {
    "reason": "理由", "department": "承办单位", "from_department": "原承办单位", "kind": "件别",
    "working_days": "延期",
    "approve": "结论", "due_date": "办理期限", "previous_due_date": "原期限", "text": "内容",
    "of": "重复于", "channel": "来源", "rating": "评价", "deadline": "期限",
    "departments": "协办单位", "cohandlers": "协办单位", "into": "并入主办工单",
    "lead": "主办工单",
    "leader": "批示领导", "feedback_due_date": "反馈期限", "late": "反馈",
    "priority": "改为", "previous_priority": "原为", "handler": "承办人",
    "previous_handler": "原承办人",
}
# Steps whose `of` names another case for a reason other than a likely duplicate.
OF_LABELS = {"merged_in": "并入的工单"}
FIELD_NAMES = {"category": "类别", "topic": "主题", "region": "区划", "citizen_name": "姓名",
               "citizen_phone": "电话", "citizen_enterprise": "企业", "content": "诉求内容"}
PURPOSE_NAMES = {"notify": "办理结果", "survey": "回访", "remind": "催办", "ack": "受理回执",
                 "escalate": "督办"}
# Field errors of the action forms, in Chinese (the schemas' own messages are the API's).
FORM_ERRORS = {
    "department": "请选择承办单位。", "reason": "请填写理由。", "text": "请填写内容。",
    "working_days": f"延期天数须为 1 到 {lifecycle.MAX_EXTENSION_DAYS} 个工作日。",
    "note": "请写明意见（退回时必填，最多 2000 字）。", "approve": "请选择同意或不同意。",
    "kind": "件别不正确。", "handler": "请选择本单位的承办人。", "priority": "请选择紧急程度。",
    "leader": "批示领导姓名不超过 64 字。",
    "feedback_days": f"反馈期限须为 1 到 {lifecycle.MAX_FEEDBACK_DAYS} 个工作日。",
    "feedback_by": "反馈日期不能早于今天。",
    "version": "表单缺少版本号，请刷新页面。", "attachments": "附件不符合要求。",
    "departments": "请选择协办单位（不能是承办单位或已有的协办单位）。",
    "cohandlers": "协办单位不正确（不能是承办单位）。",
    "into": "请填写要并入的主办工单编号（须为其他未办结的工单）。",
    "category": "没有这个类别。", "region": "区划须为 6、9 或 12 位行政区划代码。",
    "citizen": "来电人信息不正确（电话只能是数字）。", "content": "诉求内容不能为空。",
}


@bp.app_template_filter("actor_label")
def actor_label(name: str, role: str | None) -> str:
    """Who did a step, as staff read it: a person with their role, or which machine."""
    from .views import ROLE_NAMES

    if name == "system":
        return "系统"
    if name == "routing":
        return "智能分派"
    if name.startswith("citizen:"):
        return "市民"
    if name.startswith("open311:"):
        return f"Open311 接口（{name.split(':', 1)[1]}）"
    role_name = ROLE_NAMES.get(role or "", role or "")
    return f"{name}（{role_name}）" if role_name else name


def _event_details(event: Any, departments: dict[str, str]) -> list[tuple[str, str]]:
    data = event.data or {}
    out: list[tuple[str, str]] = []
    for key, label in DATA_LABELS.items():
        if key not in data or data[key] in (None, ""):
            continue
        value = data[key]
        if key in ("department", "from_department"):
            value = departments.get(value, value)
        elif key in ("departments", "cohandlers") and isinstance(value, list):
            value = "、".join(departments.get(code, code) for code in value)
        elif key == "of" and event.action in OF_LABELS:
            label = OF_LABELS[event.action]
        elif key == "working_days":
            value = f"{value} 个工作日"
        elif key == "approve":
            value = "同意" if value else "不同意"
        elif key == "late":
            value = "逾期反馈" if value else "按期反馈"
        elif key in ("priority", "previous_priority"):
            value = PRIORITY_NAMES.get(value, value)
        elif key == "rating":
            value = RATING_NAMES.get(value, value)
        elif key == "kind":
            value = KIND_NAMES.get(value, value)
        elif key == "channel":
            value = CHANNEL_NAMES.get(value, value)
        out.append((label, str(value)))
    for name, change in (data.get("changes") or {}).items():
        old, new = change.get("old"), change.get("new")
        if name == "citizen_phone":  # stored as E.164, read as written in China
            old, new = phones.display(old), phones.display(new)
        out.append((f"{FIELD_NAMES.get(name, name)}更正", f"{old or '（空）'} → {new or '（空）'}"))
    return out


def render_case(number: str, *, status: int = 200, error: str | None = None,
                stale: str | None = None, open_form: str | None = None,
                form: dict[str, str] | None = None):
    """The case page for the signed-in actor (re-read from the database)."""
    c = services.get_case(number, g.actor)
    departments = {d.code: d.name for d in db.session.scalars(
        select(Department).order_by(Department.code))}
    active = [d for d in db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.code))]
    actions = lifecycle.allowed_actions(g.actor, c)
    may_correct = lifecycle.may_correct(g.actor, c)
    categories = db.session.scalars(select(Category).where(Category.line_id == c.line_id)
                                    .order_by(Category.id)).all() if may_correct else []
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == c.id)
                                  .order_by(OutboxMessage.id)).all()
    surveys = db.session.scalars(select(Survey).where(Survey.case_id == c.id)
                                 .order_by(Survey.id)).all()
    files = [(a, attachments.local_file(a) is not None) for a in c.attachments]
    handlers = db.session.scalars(select(User).where(
        User.role == lifecycle.Role.HANDLER, User.department_code == c.department_code,
        User.active.is_(True)).order_by(User.name)).all() if "assign" in actions else []
    category_names = {cat.code: cat.name for cat in c.line.categories}
    # The timeline as the API shows it to the same person (no other department's case named).
    events = [(e, _event_details(e, departments))
              for e in services.timeline_seen_by(c, g.actor)]
    # 并单: the lead this case follows, and the cases that follow this one (as far as the
    # signed-in person may see them).
    lead = services.merged_into_seen_by(c, g.actor)
    followers = [f for f in services.merged_cases(c) if lifecycle.may_see(g.actor, f)]
    duplicate = services.duplicate_seen_by(c, g.actor)
    return render_template(
        "console/case.html", c=c, departments=departments, active_departments=active,
        duplicate=duplicate, lead=lead, followers=followers,
        cohandler_choices=[d for d in active if d.code != c.department_code
                           and d.code not in c.cohandling_departments],
        now=dt.datetime.now(dt.UTC), actions=actions, action_labels=ACTION_LABELS,
        may_correct=may_correct, categories=categories, messages=messages, surveys=surveys,
        topic_paths=_topic_paths() if may_correct else [],
        files=files, events=events, category_names=category_names, event_names=EVENT_NAMES, rating_names=RATING_NAMES,
        outbox_status_names=OUTBOX_STATUS_NAMES, outbox_channel_names=OUTBOX_CHANNEL_NAMES,
        purpose_names=PURPOSE_NAMES, inline_types=attachments.INLINE_TYPES,
        max_files=attachments.MAX_FILES,
        max_file_mb=attachments.MAX_FILE_BYTES // (1024 * 1024),
        max_extension_days=lifecycle.MAX_EXTENSION_DAYS, error=error, stale=stale,
        handlers=handlers, priority_names=PRIORITY_NAMES,
        instruction_overdue=lifecycle.instruction_overdue(c, dt.datetime.now(dt.UTC)),
        max_feedback_days=lifecycle.MAX_FEEDBACK_DAYS,
        feedback_days=lifecycle.INSTRUCTION_FEEDBACK_DAYS,
        open_form=open_form, form=form or {}), status


@bp.get("/cases/<number>")
def case(number: str):
    return render_case(number)


def _form_body(schema: Any) -> dict[str, Any]:
    """The posted form as the API's JSON body: numbers and yes/no turned into their types, empty
    fields left out (so a required one is reported missing)."""
    raw: dict[str, Any] = {}
    for name, field in schema.fields.items():
        value = request.form.get(name)
        if value is None or value.strip() == "":
            continue
        if isinstance(field, fields.List):
            values = [v for v in request.form.getlist(name) if v.strip()]
            if values:
                raw[name] = values
            continue
        if isinstance(field, fields.Integer):
            value = int(value) if value.strip().isdigit() else value
        elif isinstance(field, fields.Boolean):
            value = {"true": True, "false": False}.get(value, value)
        raw[name] = value
    return raw


def _form_error(messages: Any) -> str:
    keys = list(messages) if isinstance(messages, dict) else []
    return " ".join(FORM_ERRORS.get(k, f"“{k}”填写不正确。") for k in keys) or "表单填写不正确。"


def _refusal_text(exc: DomainError, action: str = "") -> str:
    if action == "merge" and isinstance(exc, IllegalTransition) and "into" in request.form:
        return "不能并入这个工单：它已办结，或者已并入本工单。请核对主办工单编号。"
    if isinstance(exc, Forbidden | IllegalTransition):
        return "此工单当前的状态或您的角色不允许这项操作，请刷新页面查看最新状态。"
    if "attachments" in exc.fields:  # written for people already (`attachments.read_uploads`)
        return " ".join(exc.fields["attachments"])
    if isinstance(exc, UnknownReference) or exc.fields:
        return _form_error(exc.fields)
    return "无法完成这项操作。"


@bp.post("/cases/<number>/act/<action>")
def act(number: str, action: str):
    """One lifecycle action from the case page's form."""
    services.get_case(number, g.actor)  # whether the case is visible comes first
    if action not in lifecycle.ACTIONS:
        raise NotFound(f"no action {action}")
    request.max_content_length = attachments.MAX_UPLOAD_BYTES
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    label = ACTION_LABELS[action]
    if not (request.form.get("version") or "").strip().isdigit():
        return render_case(number, status=400, error=FORM_ERRORS["version"])
    try:
        body = ACTION_SCHEMAS[action]().load(_form_body(ACTION_SCHEMAS[action]()))
        uploads = (attachments.read_uploads(request.files.getlist("attachments"))
                   if action in services.FILE_ACTIONS else [])
        c = services.act(number, action, g.actor, body, uploads=uploads)
    except ValidationError as exc:
        return render_case(number, status=400, error=_form_error(exc.messages),
                           open_form=action, form=form)
    except StaleVersion:
        db.session.rollback()
        return render_case(number, status=409, open_form=action, form=form,
                           stale=f"您的“{label}”没有执行，下面是工单现在的状态。")
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        return render_case(number, status=exc.status, error=_refusal_text(exc, action),
                           open_form=action, form=form)
    flash(f"{c.number}：{label}已完成。")
    if not lifecycle.may_see(g.actor, c):
        return redirect(url_for("console.index"))  # returned: no longer the department's case
    return redirect(url_for("console.case", number=c.number))


def _topic_paths() -> list[str]:
    """The taxonomy's topics as the correction form offers them (城乡建设/住房保障/…)."""
    from routing.topics import taxonomy

    return sorted("/".join(p for p in path if p) for path in taxonomy())


@bp.post("/cases/<number>/correct")
def correct(number: str):
    """Correct what intake got wrong (category, region, citizen, content)."""
    services.get_case(number, g.actor)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if not (request.form.get("version") or "").strip().isdigit():
        return render_case(number, status=400, error=FORM_ERRORS["version"])
    raw: dict[str, Any] = {"version": int(request.form["version"])}
    for key in ("category", "topic", "region", "note"):
        if key in request.form:
            raw[key] = request.form[key].strip() or None
    if "content" in request.form:
        raw["content"] = request.form["content"]
    citizen = {key: (request.form.get(f"citizen_{key}") or "").strip() or None
               for key in ("name", "phone", "enterprise") if f"citizen_{key}" in request.form}
    if citizen:
        raw["citizen"] = citizen
    try:
        body = CaseCorrectionSchema().load(raw)
        c, changed = services.correct_case(number, g.actor, body)
    except ValidationError as exc:
        return render_case(number, status=400, error=_form_error(exc.messages),
                           open_form="correct", form=form)
    except StaleVersion:
        db.session.rollback()
        return render_case(number, status=409, open_form="correct", form=form,
                           stale="您的更正没有保存，下面是工单现在的状态。")
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        return render_case(number, status=exc.status, error=_refusal_text(exc),
                           open_form="correct", form=form)
    flash(f"{c.number}：已更正{'、'.join(FIELD_NAMES.get(k, k) for k in changed)}。"
          if changed else f"{c.number}：没有需要更正的内容。")
    return redirect(url_for("console.case", number=c.number))


@bp.get("/cases/<number>/attachments/<int:attachment_id>")
def attachment(number: str, attachment_id: int):
    """A file of the case, scoped like the case: pictures and recordings shown in the page
    (?inline=1), everything else downloaded."""
    item, path = attachments.file_of(services.get_case(number, g.actor), attachment_id)
    return attachments.send(item, path, inline=request.args.get("inline") == "1")
