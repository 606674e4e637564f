"""Column types shared by the models, and the one rule for text stored in any of them."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime, TypeDecorator

# Control characters other than tab and line breaks (C0, DEL, C1), and halves of UTF-16 pairs:
# invisible in every screen, they break XML and CSV consumers, PostgreSQL refuses NUL, and a
# lone surrogate cannot be encoded at all.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class UTCDateTime(TypeDecorator):
    """An instant, stored as UTC and read back timezone-aware on every database.

    SQLite has no time zone type; storing naive UTC everywhere keeps comparisons and indexes
    identical on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def clean_text(value: str) -> str:
    """`value` without control characters other than tab and line breaks."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


@event.listens_for(Session, "before_flush")
def _clean_stored_text(session: Session, flush_context: Any, instances: Any) -> None:
    """Every text column of every row written, whichever channel or view wrote it (a web form,
    an SMS, a JSON body, an import), is stored without control characters."""
    for obj in (*session.new, *session.dirty):
        state = obj._sa_instance_state
        own = state.dict
        for key in _text_attributes(state.mapper):
            value = own.get(key)
            if isinstance(value, str):
                cleaned = clean_text(value)
                if cleaned is not value:
                    setattr(obj, key, cleaned)


@lru_cache(maxsize=64)
def _text_attributes(mapper: Any) -> tuple[str, ...]:
    """The attributes of a class's text columns, worked out once per class (every flush of
    every row asks)."""
    return tuple(attr.key for attr in mapper.column_attrs
                 if isinstance(attr.columns[0].type, String))
