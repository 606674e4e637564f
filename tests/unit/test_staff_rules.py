"""The rules of staff accounts, without a database: who belongs to a department, when wrong
passwords lock an account, when an API token stops."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from hotline.domain.errors import ValidationFailed
from hotline.domain.staff import LockPolicy, check_role_department, is_locked, token_state

NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("role,department,ok", [
    ("handler", "gz-hrss", True), ("handler", None, False), ("handler", "", False),
    ("operator", None, True), ("operator", "gz-hrss", False), ("admin", "gz-hrss", False),
    ("supervisor", None, True),
])
def test_a_handler_and_only_a_handler_belongs_to_a_department(role, department, ok):
    if ok:
        check_role_department(role, department)
    else:
        with pytest.raises(ValidationFailed) as refused:
            check_role_department(role, department)
        assert "department" in refused.value.fields


def test_the_lock_policy_reads_its_settings_and_keeps_sane_defaults():
    policy = LockPolicy.from_config({"SIGN_IN_LOCK_FAILURES": 5, "SIGN_IN_LOCK_MINUTES": "60"})
    assert (policy.user_failures, policy.user_minutes) == (5, 60)
    assert (policy.address_failures, policy.address_minutes) == (30, 15)
    assert not policy.locks_at(4) and policy.locks_at(5)
    assert policy.locked_until(NOW) == NOW + dt.timedelta(hours=1)
    assert LockPolicy.from_config({}).user_failures == 10
    assert LockPolicy.from_config({"SIGN_IN_LOCK_FAILURES": 0}).user_failures == 10


def test_a_lock_holds_until_its_time():
    user = SimpleNamespace(locked_until=NOW + dt.timedelta(minutes=1))
    assert is_locked(user, NOW)
    assert not is_locked(user, NOW + dt.timedelta(minutes=1))
    assert not is_locked(SimpleNamespace(locked_until=None), NOW)


def test_a_token_is_active_until_it_expires_or_is_revoked():
    def token(**kw):
        return SimpleNamespace(**{"token_hash": "x", "token_revoked_at": None,
                                  "token_expires_at": None, **kw})

    assert token_state(token(token_hash=None), NOW) == "none"
    assert token_state(token(), NOW) == "active"
    assert token_state(token(token_expires_at=NOW + dt.timedelta(days=1)), NOW) == "active"
    assert token_state(token(token_expires_at=NOW), NOW) == "expired"
    assert token_state(token(token_revoked_at=NOW, token_expires_at=NOW), NOW) == "revoked"
