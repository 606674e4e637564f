"""Rules about staff accounts (工作人员账号), plain Python: who belongs to a department, when
failed sign-ins lock an account or slow an address, and what the account log records.

The API, the console and the `hotline` command all read these; none keeps a copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .errors import ValidationFailed
from .lifecycle import Role


def check_role_department(role: str, department: str | None) -> None:
    """A handler (承办人) belongs to exactly one department; everyone else to none."""
    if role == Role.HANDLER and not department:
        raise ValidationFailed("a handler belongs to one department",
                               {"department": ["承办人必须属于一个部门。"]})
    if role != Role.HANDLER and department:
        raise ValidationFailed("only handlers belong to a department",
                               {"department": ["只有承办人属于部门，其他角色不选部门。"]})


@dataclass(frozen=True)
class LockPolicy:
    """How many wrong passwords lock an account, and for how long; how many failed sign-ins
    from one address (whatever names it tries) make that address wait."""

    user_failures: int = 10
    user_minutes: int = 30
    address_failures: int = 30
    address_minutes: int = 15

    @classmethod
    def from_config(cls, config: Any) -> LockPolicy:
        defaults = cls()
        return cls(**{name: max(1, int(config.get(key) or getattr(defaults, name)))
                      for name, key in CONFIG_KEYS.items()})  # type: ignore[arg-type]

    def locks_at(self, failures: int) -> bool:
        return failures >= self.user_failures

    def locked_until(self, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(minutes=self.user_minutes)

    def address_window_start(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(minutes=self.address_minutes)

    def address_blocked(self, recent_failures: int) -> bool:
        return recent_failures >= self.address_failures


def is_locked(user: Any, now: dt.datetime) -> bool:
    """Locked by wrong passwords until `locked_until` (or an admin's unlock)."""
    return user.locked_until is not None and user.locked_until > now


def token_state(user: Any, now: dt.datetime) -> str:
    """The user's API token: `none`, `active`, `expired` or `revoked`."""
    if user.token_hash is None:
        return "none"
    if user.token_revoked_at is not None:
        return "revoked"
    if user.token_expires_at is not None and user.token_expires_at <= now:
        return "expired"
    return "active"


# Settings (app config or the environment) → LockPolicy fields.
CONFIG_KEYS = {
    "user_failures": "SIGN_IN_LOCK_FAILURES",
    "user_minutes": "SIGN_IN_LOCK_MINUTES",
    "address_failures": "SIGN_IN_ADDRESS_FAILURES",
    "address_minutes": "SIGN_IN_ADDRESS_MINUTES",
}


class AccountEvent:
    """The kinds of entries in the account log (登录与账号日志), with their Chinese names."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_REFUSED = "sign_in_refused"  # a locked account: the password was not even checked
    ADDRESS_BLOCKED = "address_blocked"  # an address made to wait (once per wait)
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    SIGN_OUT = "sign_out"
    SESSIONS_ENDED = "sessions_ended"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    CREATED = "created"
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"


EVENT_NAMES = {
    AccountEvent.SIGN_IN: "登录",
    AccountEvent.SIGN_IN_FAILED: "登录失败",
    AccountEvent.SIGN_IN_REFUSED: "拒绝登录",
    AccountEvent.ADDRESS_BLOCKED: "地址暂停登录",
    AccountEvent.LOCKED: "账号锁定",
    AccountEvent.UNLOCKED: "解除锁定",
    AccountEvent.SIGN_OUT: "退出",
    AccountEvent.SESSIONS_ENDED: "强制下线",
    AccountEvent.PASSWORD_CHANGED: "修改密码",
    AccountEvent.PASSWORD_RESET: "重置密码",
    AccountEvent.CREATED: "创建账号",
    AccountEvent.ROLE_CHANGED: "变更角色或部门",
    AccountEvent.DEACTIVATED: "停用",
    AccountEvent.REACTIVATED: "启用",
    AccountEvent.TOKEN_ISSUED: "签发 API 令牌",
    AccountEvent.TOKEN_REVOKED: "吊销 API 令牌",
}
# Entries that count against an address: every sign-in that did not succeed.
FAILED_SIGN_INS = (AccountEvent.SIGN_IN_FAILED, AccountEvent.SIGN_IN_REFUSED)
