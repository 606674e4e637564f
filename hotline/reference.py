"""Per-process copies of what nearly every request reads and staff seldom change — users by
their API token, lines, categories, departments and their contacts, routing's rules and model
— kept exactly as current as reading the rows would be.

Every flush (and ORM bulk statement) that writes one of `STAMPED_TABLES` gives that table a new
random stamp in `change_stamps`, in the same transaction. A request reads all the stamps once
(one small SELECT, `stamps`; a job or a command once per transaction), and a copy is used only
while the stamps of its
tables are those it was filled under: a token revoked, a user deactivated, a department
switched off or a rule edited in any process is seen by every other one at its next request,
as if it had read the rows itself. A transaction that wrote one of those tables reads them
directly until it ends (its changes are not the others'). A row changed by raw SQL gets no new
stamp: every copy is dropped after `TTL` seconds whatever the stamps say.

A copy of a row is a detached instance; `attach` puts it in the request's session as if it
had been loaded there (`Session.merge(load=False)`: no SQL).
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple, TypeVar

from flask import has_request_context, request
from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from .extensions import db
from .models import Category, ChangeStamp, Department, DepartmentContact, Line, User

STAMPED_TABLES = frozenset({"users", "lines", "categories", "departments",
                            "department_contacts", "routing_rules", "routing_models"})
# Copies are dropped at least this often: a change made past the ORM reaches every process
# within this time.
TTL = 60.0

_WRITTEN = "hotline_reference_written"  # session.info: stamped tables this transaction wrote
_STAMPS = "hotline_reference_stamps"  # session.info: (transaction, stamps read in it)

T = TypeVar("T")


# Built once, run on the session's connection: no ORM execution (its events, its options) for
# a statement every request runs.
_READ_STAMPS = select(ChangeStamp.__table__.c.table_name, ChangeStamp.__table__.c.stamp)


def stamps() -> dict[str, int]:
    """Every table's stamp, read once per request (and per transaction of the session)."""
    session = db.session()
    asking = request._get_current_object() if has_request_context() else None
    memo = session.info.get(_STAMPS)
    if memo is not None and memo[0] is session.get_transaction() and memo[1] is asking:
        return memo[2]
    values = dict(session.connection().execute(_READ_STAMPS).all())
    session.info[_STAMPS] = (session.get_transaction(), asking, values)
    return values


class Kept:
    """Copies of rows of `tables`, by key, for each database this process uses: filled by the
    caller's loader at the first request for a key, used while the tables' stamps stay. A copy
    holds plain values (detached rows, tuples): one that reached a session would keep its
    engine, the key, alive, and the engine's pooled connections open."""

    def __init__(self, *tables: str) -> None:
        unknown = set(tables) - STAMPED_TABLES
        if unknown:
            raise ValueError(f"{sorted(unknown)} get no stamps: add them to STAMPED_TABLES")
        self.tables = tables
        self._by_engine: weakref.WeakKeyDictionary[Any, tuple[tuple, float, dict]] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The copy for `key`, or `load()` (kept for the next requests)."""
        session = db.session()
        if _written_here(session, self.tables):
            return load()
        current = tuple(stamps().get(name, 0) for name in self.tables)
        engine = db.engine
        now = time.monotonic()
        kept = self._by_engine.get(engine)
        if kept is None or kept[0] != current or now - kept[1] >= TTL:
            kept = (current, now, {})
            with self._lock:
                self._by_engine[engine] = kept
        entries = kept[2]
        try:
            return entries[key]
        except KeyError:
            value = load()
            if value is not None:  # what does not exist is asked again (unknown tokens)
                entries[key] = value
            return value

    def forget(self) -> None:
        with self._lock:
            self._by_engine.clear()


def copy_of(row: T | None) -> T | None:
    """A detached copy of a loaded row (its columns), to keep between requests."""
    if row is None:
        return None
    mapper = inspect(row).mapper
    state = inspect(row).dict
    copy = mapper.class_manager.new_instance()
    own = inspect(copy).dict
    for attr in mapper.column_attrs:
        own[attr.key] = state[attr.key] if attr.key in state else getattr(row, attr.key)
    make_transient_to_detached(copy)
    return copy


def attach(copy: T | None) -> T | None:
    """A kept copy as an instance of the request's session (no SQL)."""
    if copy is None:
        return None
    return db.session.merge(copy, load=False)


def _written_here(session: Session, tables: Iterable[str]) -> bool:
    written = session.info.get(_WRITTEN)
    if written and not written.isdisjoint(tables):
        return True
    # Changed in memory, not flushed yet: a copy would hide (or, attached, overwrite) it.
    return any(getattr(obj, "__tablename__", None) in tables
               for obj in (*session.new, *session.dirty, *session.deleted))


# --- the session's listeners (hotline/wiring.py) -----------------------------------------------

def stamp_changes(session: Session, flush_context: Any) -> None:
    """After a flush that wrote stamped tables: new stamps for them, in its transaction."""
    tables = {name for obj in (*session.new, *session.dirty, *session.deleted)
              if (name := getattr(obj, "__tablename__", None)) in STAMPED_TABLES}
    if tables:
        _renew(session, tables)


def stamp_bulk_changes(state: Any) -> None:
    """An ORM bulk INSERT, UPDATE or DELETE of a stamped table: new stamp, same transaction."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in STAMPED_TABLES:
        _renew(state.session, {name})


def forget_written(session: Session, *args: Any) -> None:
    """The transaction ended (not a savepoint): its writes are everyone's, or no one's."""
    if session.get_nested_transaction() is None:
        session.info.pop(_WRITTEN, None)
        session.info.pop(_STAMPS, None)


def _renew(session: Session, tables: set[str]) -> None:
    session.info.setdefault(_WRITTEN, set()).update(tables)
    session.info.pop(_STAMPS, None)
    connection = session.connection()
    table = ChangeStamp.__table__
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.table_name],
                                      set_={"stamp": stmt.excluded.stamp})
    connection.execute(stmt, [{"table_name": name, "stamp": secrets.randbits(62)}
                              for name in sorted(tables)])


# --- the copies --------------------------------------------------------------------------------

_users = Kept("users")
_lines = Kept("lines")
_categories = Kept("categories")
_departments = Kept("departments")
_contacts = Kept("department_contacts")


def user_by_token_hash(digest: str) -> User | None:
    """The user whose API token has this digest, whatever the token's state."""
    return attach(_users.get(digest, lambda: copy_of(db.session.scalar(
        select(User).where(User.token_hash == digest)))))


def line(code: str) -> Line | None:
    """The line of this code, active or not."""
    return attach(_lines.get(code, lambda: copy_of(db.session.scalar(
        select(Line).where(Line.code == code)))))


def category(line_id: int, code: str) -> Category | None:
    """The line's category of this code."""
    return attach(_categories.get((line_id, code), lambda: copy_of(db.session.scalar(
        select(Category).where(Category.line_id == line_id, Category.code == code)))))


class DepartmentFacts(NamedTuple):
    name: str
    active: bool


def department(code: str) -> DepartmentFacts | None:
    """The department's name and whether it is active, or None when there is none of this
    code. Kept as plain values: a result `Row` would keep the session that read it alive (its
    metadata holds the query's context), and with it the engine and its pooled connections."""
    def load() -> DepartmentFacts | None:
        row = db.session.execute(
            select(Department.name, Department.active).where(Department.code == code)).first()
        return None if row is None else DepartmentFacts(row.name, bool(row.active))

    return _departments.get(code, load)


def active_contacts(code: str) -> list[DepartmentContact]:
    """The department's active contacts, oldest first."""
    kept = _contacts.get(code, lambda: tuple(copy_of(c) for c in db.session.scalars(
        select(DepartmentContact).where(DepartmentContact.department_code == code,
                                        DepartmentContact.active)
        .order_by(DepartmentContact.id))))
    return [attach(c) for c in kept]
