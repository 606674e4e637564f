"""The admin's Open311 API keys: issuing one (its value shown once: only its hash is kept) and
revoking it (the row stays, for the record). The API (`admin`) and the console's page
(`console`) call these."""

from __future__ import annotations

from sqlalchemy import select

from hotline.domain.errors import Conflict, NotFound
from hotline.extensions import db
from hotline.models.types import utcnow

from .models import Open311ApiKey


def issue_key(name: str, contact: str | None, by: str) -> tuple[Open311ApiKey, str]:
    """A new key for a client application, committed; returns it with the key itself."""
    name = name.strip()
    if db.session.scalar(select(Open311ApiKey).where(Open311ApiKey.name == name)):
        raise Conflict(f"a key named {name!r} exists; revoke it or choose another name",
                       {"name": [f"已有名为 {name} 的密钥。"]})
    key = Open311ApiKey(name=name, contact=contact, created_by=by)
    secret = key.issue()
    db.session.add(key)
    db.session.commit()
    return key, secret


def find_key(key_id: int) -> Open311ApiKey:
    key = db.session.get(Open311ApiKey, key_id) if 0 < key_id < 2**31 else None
    if key is None:
        raise NotFound(f"no key {key_id}")
    return key


def revoke_key(key: Open311ApiKey, by: str) -> Open311ApiKey:
    """Stop a key at once (a revoked key stays revoked)."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.revoked_by = by
        db.session.commit()
    return key
