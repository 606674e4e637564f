"""Staff identity for the console: passwords and who may sign in.

Passwords are kept as Werkzeug's salted scrypt hashes (a kept library; nothing of our own
touches the cryptography). API bearer tokens stay for integrations (`User.issue_token`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .domain.errors import ValidationFailed
from .extensions import db
from .models import User

PASSWORD_MIN_LENGTH = 8
# A hash to check against when the name is unknown, so that a wrong name takes as long as a
# wrong password and the timing does not say which names exist.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone")


def check_password_strength(password: str) -> None:
    """Refuse a password too short or too plain to stand a guessing attack."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed("the password is too short",
                               {"password": [f"至少 {PASSWORD_MIN_LENGTH} 个字符。"]})
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
    combination: the caller tells the person only that sign-in failed)."""
    user = db.session.scalar(select(User).where(func.lower(User.name) == name.strip().lower()))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        return None
    return user
