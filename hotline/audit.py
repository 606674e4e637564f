"""The audit list of admin changes (管理操作审计): every change to users, departments and their
contacts, lines, categories, routing rules, the calendar's years, WeChat accounts, Open311 keys
and the active routing model is written down — who, when, through what (API, console, the
`hotline` command), and each field's old and new value.

One table (`TRACKED`) names what is audited; a session listener (`record_changes`, a row of
`hotline.wiring.SESSION_LISTENERS`) writes the entries at every flush,
in the transaction of the change itself, whatever code made it: the API, the console pages and
the command line call the same services, and nothing they change escapes the list. A change
that fails and is rolled back leaves no entry. A secret (a password, a token, an account's
credentials) is never written: only that it was set, changed or cleared.

Who: the signed-in user of the request (console session or API token); the command line names
itself (`as_command_line`); anything else (seeding in code, a worker's job) is "system".
"""

from __future__ import annotations

import contextvars
import datetime as dt
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from . import paging
from .extensions import db
from .models import AdminAudit
from .models.types import utcnow

# What the list shows instead of a secret's value.
SECRET_SET = "（已设置）"
SECRET_CHANGED = "（已更换）"


@dataclass(frozen=True)
class Tracked:
    """How one table is audited: its kind, how an entry names the row, the fields whose old and
    new values are written, and the secret fields written only as set or not."""

    kind: str
    key: Callable[[Any], str]
    fields: tuple[str, ...]
    secrets: tuple[str, ...] = field(default=())


def _category_key(row: Any) -> str:
    line = row.line.code if row.line is not None else row.line_id
    return f"{line}/{row.code}"


# Table name → how it is audited. Channels' tables are named, not imported: the core never
# imports a channel.
TRACKED: dict[str, Tracked] = {
    "users": Tracked("user", lambda r: r.name,
                     ("name", "role", "department_code", "active", "token_expires_at",
                      "token_revoked_at"), ("password_hash", "token_hash")),
    "departments": Tracked("department", lambda r: r.code, ("code", "name", "region", "active")),
    "department_contacts": Tracked(
        "contact", lambda r: f"{r.department_code} {r.channel}:{r.address}",
        ("department_code", "channel", "address", "name", "active")),
    "lines": Tracked("line", lambda r: r.code,
                     ("code", "name", "number_prefix", "phone_number", "hours", "accept_days",
                      "reply_days", "remind_days", "auto_dispatch_threshold", "active")),
    "categories": Tracked("category", _category_key,
                          ("code", "name", "accept_days", "reply_days", "remind_days")),
    "routing_rules": Tracked("rule", lambda r: f"#{r.id}",
                             ("line", "category", "topic1", "keywords", "region_level",
                              "department", "priority", "active", "note")),
    "calendar_years": Tracked("calendar", lambda r: str(r.year), ("holidays", "workdays")),
    "wechat_accounts": Tracked("wechat_account", lambda r: r.code,
                               ("code", "name", "appid", "line_code", "template_id", "active"),
                               ("token_enc", "secret_enc", "aes_key_enc")),
    "open311_api_keys": Tracked("open311_key", lambda r: r.name,
                                ("name", "contact", "key_prefix", "revoked_at", "revoked_by"),
                                ("key_hash",)),
    "routing_models": Tracked("routing_model", lambda r: f"#{r.id}", ("active", "note")),
}

# The kinds as the list names them (and filters by: `api.schemas.AUDIT_KINDS`).
KIND_NAMES = {
    "user": "账号", "department": "部门", "contact": "部门联系人", "line": "线路",
    "category": "类别", "rule": "分类规则", "calendar": "工作日历",
    "wechat_account": "微信公众号", "open311_key": "Open311 密钥", "routing_model": "分类模型",
}
ACTION_NAMES = {"create": "新增", "update": "修改", "delete": "删除", "unlock": "解除锁定",
                "sign-out": "强制下线"}
VIA_NAMES = {"api": "API", "console": "工作台", "cli": "命令行", "system": "系统", "web": "网页"}
FIELD_NAMES = {
    "name": "名称", "code": "代码", "region": "区划", "active": "启用", "role": "角色",
    "department_code": "部门", "token_expires_at": "令牌到期", "token_revoked_at": "令牌吊销",
    "password_hash": "密码", "token_hash": "API 令牌", "channel": "方式", "address": "地址",
    "number_prefix": "编号前缀", "phone_number": "电话", "hours": "服务时间",
    "accept_days": "签收时限", "reply_days": "办理时限", "remind_days": "提前催办",
    "auto_dispatch_threshold": "自动派单阈值", "line": "线路", "category": "类别",
    "topic1": "主题", "keywords": "关键词", "region_level": "地区级别", "department": "部门",
    "priority": "优先级", "note": "备注", "holidays": "节假日", "workdays": "调休上班日",
    "appid": "AppID", "line_code": "线路", "template_id": "模板", "token_enc": "Token",
    "secret_enc": "AppSecret", "aes_key_enc": "EncodingAESKey", "contact": "联系人",
    "key_prefix": "密钥前缀", "revoked_at": "吊销时间", "revoked_by": "吊销人", "key_hash": "密钥",
    # the forms' names of the same things
    "token": "Token", "secret": "AppSecret", "aes_key": "EncodingAESKey", "message": "留言",
}

_command_line: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hotline_audit_command_line", default=None)


def as_command_line(command: Callable) -> Callable:
    """Mark a `hotline` command: what it changes is recorded as done on the command line by the
    operating-system user who ran it."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with command_line():
            return command(*args, **kwargs)

    return wrapper


@contextmanager
def command_line(name: str | None = None) -> Iterator[None]:
    try:
        who = name or getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        who = "unknown"
    token = _command_line.set(who)
    try:
        yield
    finally:
        _command_line.reset(token)


def current_actor() -> tuple[str, str]:
    """(who, via) for an entry written now."""
    if has_request_context():
        user = g.get("user")
        path = request.path
        via = "api" if path.startswith("/api/") else "console" if path.startswith("/console") \
            else "web"
        if user is not None:
            return user.name, via
    cli = _command_line.get()
    if cli is not None:
        return cli, "cli"
    return "system", "system"


def _plain(value: Any) -> Any:
    """A value as JSON keeps it."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def _secret(value: Any) -> str | None:
    return SECRET_SET if value else None


def _tracked(objects: Any) -> list[tuple[Tracked, Any]]:
    found = []
    for obj in objects:
        spec = TRACKED.get(getattr(obj, "__tablename__", ""))
        if spec is not None:
            found.append((spec, obj))
    return found


def _entries(session: Session) -> list[dict[str, Any]]:
    new, dirty, deleted = (_tracked(session.new), _tracked(session.dirty),
                           _tracked(session.deleted))
    if not (new or dirty or deleted):
        return []  # most flushes (cases, events) touch no configuration
    rows: list[dict[str, Any]] = []
    who, via = current_actor()
    now = utcnow()

    def add(spec: Tracked, obj: Any, action: str, changes: dict[str, Any]) -> None:
        rows.append({"at": now, "actor": who[:100], "via": via, "kind": spec.kind,
                     "target": str(spec.key(obj))[:200], "action": action,
                     "changes": changes})

    for spec, obj in new:
        changes = {f: {"old": None, "new": _plain(getattr(obj, f))} for f in spec.fields
                   if getattr(obj, f) not in (None, "", [])}
        changes.update({f: {"old": None, "new": SECRET_SET} for f in spec.secrets
                        if getattr(obj, f)})
        add(spec, obj, "create", changes)
    for spec, obj in dirty:
        state = inspect(obj)
        changes = {}
        for name in spec.fields + spec.secrets:
            history = state.attrs[name].history
            if not history.added and not history.deleted:
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
            if name in spec.secrets:
                changes[name] = {"old": _secret(before), "new": _secret(after)}
                if before and after:
                    changes[name]["new"] = SECRET_CHANGED
            else:
                changes[name] = {"old": _plain(before), "new": _plain(after)}
        if changes:
            add(spec, obj, "update", changes)
    for spec, obj in deleted:
        changes = {f: {"old": _plain(getattr(obj, f)), "new": None} for f in spec.fields
                   if getattr(obj, f) not in (None, "", [])}
        add(spec, obj, "delete", changes)
    return rows


_WRITTEN = "hotline_audit_written"  # session.info: this transaction's entries by thing


def _merged(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """Two flushes' changes of one thing as one: the first old value, the last new one."""
    out = dict(earlier)
    for name, change in later.items():
        old = earlier[name]["old"] if name in earlier else change["old"]
        out[name] = {"old": old, "new": change["new"]}
        if old == change["new"] and old not in (SECRET_SET, SECRET_CHANGED):
            del out[name]
    return out


def record_changes(session: Session, flush_context: Any) -> None:
    """Write the entries of what a flush changed of the audited tables."""
    rows = _entries(session)
    if not rows:
        return
    # Straight into the flush's own transaction: the entry commits with the change, or
    # neither does. A change that takes several flushes (a lookup in between flushes what was
    # set before it) is one entry: the later flushes add to the first one's.
    table = AdminAudit.__table__
    connection = session.connection()
    written = session.info.setdefault(_WRITTEN, {})
    for row in rows:
        key = (row["kind"], row["target"])
        earlier = written.get(key)
        if earlier is not None and row["action"] == "update" \
                and earlier["action"] in ("create", "update"):
            earlier["changes"] = _merged(earlier["changes"], row["changes"])
            connection.execute(table.update().where(table.c.id == earlier["id"])
                               .values(changes=earlier["changes"]))
            continue
        result = connection.execute(table.insert().values(**row))
        written[key] = {**row, "id": result.inserted_primary_key[0]}


def forget_written(session: Session, *args: Any) -> None:
    session.info.pop(_WRITTEN, None)



def note(kind: str, target: str, action: str, changes: dict[str, Any] | None = None) -> None:
    """Record a step that changes no audited field (an admin lifting a lock, ending a user's
    sessions), in the caller's transaction (no commit)."""
    who, via = current_actor()
    db.session.add(AdminAudit(at=utcnow(), actor=who[:100], via=via, kind=kind,
                              target=target[:200], action=action, changes=changes or {}))


def entries(kind: str | None = None, target: str | None = None, actor: str | None = None,
            page: int = 1, per_page: int = 50) -> tuple[list[AdminAudit], int]:
    """One page of the list, newest first, and how many entries match in all."""
    return paging.log_page(AdminAudit, page, per_page, kind=kind, target=target, actor=actor)
