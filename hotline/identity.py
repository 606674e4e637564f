"""Staff identity: passwords, signing in with its locks, API tokens, and the changes an admin
makes to an account — each one written to the account log (`AuthEvent`).

Passwords are kept as Werkzeug's salted scrypt hashes (a kept library; nothing of our own
touches the cryptography). API bearer tokens stay for integrations; they may expire and be
revoked. Lock counters live in the database, so every web process sees the same lock.

The API (`hotline.api.admin`), the console (`hotline.console.admin`) and the `hotline` command
call these functions; the rules they apply are in `hotline.domain.staff`. Nothing here commits
unless it says so: the caller commits once the whole change is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, has_request_context
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit, paging, webforms
from .domain.errors import Conflict, UnknownReference, ValidationFailed
from .domain.lifecycle import Role
from .domain.staff import (
    FAILED_SIGN_INS,
    AccountEvent,
    LockPolicy,
    check_role_department,
    is_locked,
)
from .extensions import db
from .models import AuthEvent, Department, User
from .models.types import utcnow

PASSWORD_MIN_LENGTH = 8
# A hash to check against when the name is unknown, so that a wrong name takes as long as a
# wrong password and the timing does not say which names exist. Written out, not made at
# import (a deliberately slow hash in every process's start: CLI, web, worker); it must
# carry the method and cost of `generate_password_hash` (tests/unit/test_identity_hash.py).
_DUMMY_HASH = ("scrypt:32768:8:1$kEZN9qBWqZHv5fGK$0ca76e1950097e57a6f8ff19b249cf1a1d417d3363a455d"
               "aad25770e504b6196da39e5824679f6eff09ee0f1ca0910787de37610a3c06ae1aa69b7ea67604e75")


# --- passwords -------------------------------------------------------------------------------

def check_password_strength(password: str) -> None:
    """Refuse a password too short or too plain to stand a guessing attack."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed("the password is too short",
                               {"password": [f"密码至少 {PASSWORD_MIN_LENGTH} 个字符。"]})
    if len(set(password)) < 4:
        raise ValidationFailed("the password is too plain",
                               {"password": ["密码过于简单，请混合使用不同的字符。"]})


def set_password(user: User, password: str, *, must_change: bool = False) -> None:
    """Give the user a new password (no commit); every open console session of the user ends."""
    check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = must_change
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every console session of the user at its next request (no commit)."""
    user.session_version = (user.session_version or 1) + 1


def authenticate(name: str, password: str) -> User | None:
    """The active user with this name and password, or None (the same answer for every wrong
    combination). Counts nothing: signing in goes through `sign_in_attempt`."""
    user = find_user(name)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def find_user(name: str) -> User | None:
    """The user of a sign-in name (as typed: surrounding spaces and letter case do not count),
    read afresh: another web process may have just locked or changed the account."""
    return db.session.scalar(select(User).where(func.lower(User.name) == name.strip().lower())
                             .execution_options(populate_existing=True))


# --- the account log -------------------------------------------------------------------------

def client_address() -> str | None:
    """The address of the request being served, or None outside a request (the command line)."""
    return webforms.client_address()[:64] if has_request_context() else None


def record(kind: str, user_name: str, *, by: User | None = None, detail: str | None = None,
           at: dt.datetime | None = None) -> AuthEvent:
    """Add an entry to the account log (no commit): `by` is the admin who did it, if not the
    person themself; the address is the current request's."""
    event = AuthEvent(kind=kind, user_name=user_name[:64], at=at or utcnow(),
                      by_name=by.name if by is not None and by.name != user_name else None,
                      address=client_address(), detail=(detail or None) and detail[:300])
    db.session.add(event)
    return event


# --- signing in ------------------------------------------------------------------------------

def lock_policy() -> LockPolicy:
    return LockPolicy.from_config(current_app.config)


@dataclass(frozen=True)
class SignInResult:
    """What came of a sign-in: the user, or why not (`wrong`, `locked`, `address`) and until
    when the refusal holds."""

    user: User | None = None
    refusal: str | None = None
    until: dt.datetime | None = None


def sign_in_attempt(name: str, password: str) -> SignInResult:
    """Check a sign-in from the current request's address and record it (commits).

    An address with too many failures in the last minutes is refused before any name is
    looked at, so one machine cannot spray passwords over many names; an account locked by
    repeated wrong passwords is refused even with the right one until the lock ends or an
    admin lifts it."""
    policy, now, address = lock_policy(), utcnow(), client_address()
    name = name.strip()[:64]
    if address is not None:
        since = policy.address_window_start(now)
        recent = db.session.scalar(select(func.count()).select_from(AuthEvent).where(
            AuthEvent.address == address, AuthEvent.kind.in_(FAILED_SIGN_INS),
            AuthEvent.at > since))
        if policy.address_blocked(recent or 0):
            # Recorded once per wait, not per try: a script hammering away writes nothing more.
            first = db.session.scalar(select(func.min(AuthEvent.at)).where(
                AuthEvent.address == address, AuthEvent.kind.in_(FAILED_SIGN_INS),
                AuthEvent.at > since))
            noted = db.session.scalar(select(func.count()).select_from(AuthEvent).where(
                AuthEvent.address == address, AuthEvent.kind == AccountEvent.ADDRESS_BLOCKED,
                AuthEvent.at > since))
            if not noted:
                record(AccountEvent.ADDRESS_BLOCKED, name, at=now,
                       detail=f"{policy.address_minutes} 分钟内失败 {recent} 次")
                db.session.commit()
            until = (first or now) + dt.timedelta(minutes=policy.address_minutes)
            return SignInResult(refusal="address", until=until)
    user = find_user(name)
    if user is not None and is_locked(user, now):
        record(AccountEvent.SIGN_IN_REFUSED, user.name, detail="账号已锁定", at=now)
        db.session.commit()
        return SignInResult(refusal="locked", until=user.locked_until)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        record(AccountEvent.SIGN_IN_FAILED, user.name if user else name,
               detail="没有这个用户" if user is None else "未设置密码", at=now)
        db.session.commit()
        return SignInResult(refusal="wrong")
    if not check_password_hash(user.password_hash, password):
        locked = count_failure(user, "密码错误", now)
        db.session.commit()
        return SignInResult(refusal="locked" if locked else "wrong", until=user.locked_until)
    if not user.active:
        record(AccountEvent.SIGN_IN_FAILED, user.name, detail="账号已停用", at=now)
        db.session.commit()
        return SignInResult(refusal="wrong")
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    record(AccountEvent.SIGN_IN, user.name, at=now)
    db.session.commit()
    return SignInResult(user=user)


def count_failure(user: User, why: str, now: dt.datetime | None = None) -> bool:
    """Record a wrong password of the user (no commit); True when the account is now locked.

    The count is raised in the database in one statement, so web processes answering at the
    same time never lose a failure; only the statement that sets the lock records it."""
    now = now or utcnow()
    policy = lock_policy()
    record(AccountEvent.SIGN_IN_FAILED, user.name, detail=why, at=now)
    failures = db.session.scalar(
        update(User).where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins))
    if not policy.locks_at(failures or 0):
        db.session.refresh(user)
        return False
    until = policy.locked_until(now)
    locked = db.session.execute(
        update(User).where(User.id == user.id,
                           (User.locked_until.is_(None)) | (User.locked_until <= now))
        .values(locked_until=until, failed_sign_ins=0)).rowcount
    db.session.refresh(user)
    if locked:
        record(AccountEvent.LOCKED, user.name, at=now,
               detail=f"连续 {policy.user_failures} 次密码错误，锁定 {policy.user_minutes} 分钟")
    return is_locked(user, now)


# --- accounts: what an admin (or the command line) does ---------------------------------------

def create_user(name: str, role: str, department: str | None, *, password: str | None = None,
                must_change: bool = False, token: bool = True, token_days: int | None = None,
                by: User | None = None) -> tuple[User, str | None]:
    """Create a staff account (commits) and return it with its API token, shown this once
    (only its hash is kept), or None when `token` is False (an account for the console only).

    With a password, the person can sign in to the console; `must_change` makes them choose
    their own at the first sign-in (an initial password an admin handed over)."""
    check_role_department(role, department)
    if find_user(name) is not None:
        raise Conflict("a user with this name exists", {"name": [f"用户名 {name} 已被使用。"]})
    if department and not db.session.scalar(select(Department).where(Department.code == department)):
        raise UnknownReference("unknown department", {"department": [f"没有部门 {department}。"]})
    if password is not None:
        check_password_strength(password)
    user = User(name=name, role=role, department_code=department, failed_sign_ins=0,
                session_version=1)
    if password is not None:
        set_password(user, password, must_change=must_change)
    db.session.add(user)
    record(AccountEvent.CREATED, name, by=by, detail=describe_role(role, department))
    plain = issue_token(user, token_days, by=by) if token else None
    db.session.commit()
    return user, plain


def describe_role(role: str, department: str | None) -> str:
    return role + (f" ({department})" if department else "")


def issue_token(user: User, days: int | None = None, *, by: User | None = None) -> str:
    """A new API token for the user, replacing any earlier one; it expires after `days` days
    when given (no commit). Only its hash is kept: return the token to show once."""
    if days is not None and days < 1:
        raise ValidationFailed("a token lives at least one day", {"token_days": ["至少 1 天。"]})
    token = user.issue_token()
    now = utcnow()
    user.token_issued_at = now
    user.token_expires_at = now + dt.timedelta(days=days) if days else None
    user.token_revoked_at = None
    record(AccountEvent.TOKEN_ISSUED, user.name, by=by,
           detail=f"{days} 天后过期" if days else "不过期")
    return token


def revoke_token(user: User, *, by: User | None = None) -> None:
    """Stop the user's API token at once (no commit); the hash stays so that a request with it
    hears it was revoked rather than unknown."""
    if user.token_hash is None or user.token_revoked_at is not None:
        raise Conflict("the user has no token in use", {"token": ["该用户没有有效的 API 令牌。"]})
    user.token_revoked_at = utcnow()
    record(AccountEvent.TOKEN_REVOKED, user.name, by=by)


def reset_password(user: User, password: str, *, by: User | None,
                   must_change: bool = True) -> None:
    """An admin's new password for the user (no commit; `by` None: the command line): the
    person must choose their own at the next sign-in unless `must_change` is False, every
    open session ends, and a lock is lifted."""
    set_password(user, password, must_change=must_change)
    user.failed_sign_ins = 0
    user.locked_until = None
    record(AccountEvent.PASSWORD_RESET, user.name, by=by,
           detail="下次登录须修改密码" if must_change else None)


def change_own_password(user: User, current: str, new: str) -> None:
    """The person's own new password (no commit); a wrong current password counts as a failed
    sign-in, so a session left open cannot be used to guess it."""
    if user.password_hash is None or not check_password_hash(user.password_hash, current):
        count_failure(user, "改密码时当前密码错误")
        db.session.commit()
        raise ValidationFailed("the current password is wrong", {"current": ["当前密码不正确。"]})
    if new == current:
        raise ValidationFailed("the new password is the old one",
                               {"new": ["新密码不能与当前密码相同。"]})
    set_password(user, new)
    record(AccountEvent.PASSWORD_CHANGED, user.name)


def unlock(user: User, *, by: User | None) -> None:
    """Lift a lock left by wrong passwords (no commit)."""
    if not is_locked(user, utcnow()) and not user.failed_sign_ins:
        raise Conflict("the user is not locked", {"locked": ["该用户没有被锁定。"]})
    user.locked_until = None
    user.failed_sign_ins = 0
    record(AccountEvent.UNLOCKED, user.name, by=by)
    audit.note("user", user.name, "unlock")


def sign_out_everywhere(user: User, *, by: User | None) -> None:
    """End every console session of the user now (no commit)."""
    end_sessions(user)
    record(AccountEvent.SESSIONS_ENDED, user.name, by=by)
    audit.note("user", user.name, "sign-out")


KEEP = object()  # `change_role`'s department when the caller did not name one


def change_role(user: User, role: str, department: str | None | object = KEEP, *,
                by: User | None) -> None:
    """Give the user another role or department (no commit); their sessions end, so the next
    click sees the new rights. Without a department, a handler keeps theirs and anyone else
    has none."""
    if department is KEEP:
        department = user.department_code if role == Role.HANDLER else None
    assert department is None or isinstance(department, str)
    check_role_department(role, department)
    if department and not db.session.scalar(select(Department).where(Department.code == department)):
        raise UnknownReference("unknown department", {"department": [f"没有部门 {department}。"]})
    if (role, department) == (user.role, user.department_code):
        return
    if user.role == Role.ADMIN and role != Role.ADMIN:
        _keep_an_admin(user)
    before = describe_role(user.role, user.department_code)
    user.role, user.department_code = role, department
    end_sessions(user)
    record(AccountEvent.ROLE_CHANGED, user.name, by=by,
           detail=f"{before} → {describe_role(role, department)}")


def set_active(user: User, active: bool, *, by: User | None) -> None:
    """Deactivate or reactivate the user (no commit). A deactivated user's sessions and API
    token stop at once; reactivating does not bring old sessions back."""
    if user.active == active:
        return
    if not active and by is not None and by.id == user.id:
        raise Conflict("you cannot deactivate yourself", {"active": ["不能停用自己的账号。"]})
    if not active:
        _keep_an_admin(user)
    user.active = active
    end_sessions(user)
    record(AccountEvent.REACTIVATED if active else AccountEvent.DEACTIVATED, user.name, by=by)


def _keep_an_admin(user: User) -> None:
    """Nobody could manage accounts any more once the last active admin is gone."""
    if user.role != Role.ADMIN or not user.active:
        return
    others = db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id))
    if not others:
        raise Conflict("the last active admin cannot be removed",
                       {"role": ["这是最后一个启用的管理员，不能停用或改为其他角色。"]})


# --- reading the account log -----------------------------------------------------------------

def account_log(user: str | None = None, kind: str | None = None, address: str | None = None,
                page: int = 1, per_page: int = 50) -> tuple[list[AuthEvent], int]:
    """One page of the account log, newest first, and how many entries match in all."""
    return paging.log_page(AuthEvent, page, per_page, user_name=user, kind=kind, address=address)
