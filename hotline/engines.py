"""The database connections a process keeps, beyond the app's engine: when a pooled connection
is checked before use, and the engine for the one kind of commit that need not wait for the
disk (the day's case-number counter, `hotline.services.next_number`).

A pooled PostgreSQL connection is pinged before use only when it has been idle for
`PING_AFTER_IDLE` seconds: one that served a request a moment ago is alive, and a round trip
per checkout (`pool_pre_ping`) cost every request, intake twice. A connection the server dropped
while in use fails that one statement; SQLAlchemy then invalidates the whole pool (a
disconnect error), so the next checkout connects afresh. SQLite's connections are files: no ping.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine

PING_AFTER_IDLE = 1.0  # s a pooled connection may rest and still be taken as alive
_RETURNED_AT = "hotline_returned_at"


@event.listens_for(Engine, "checkin")
def _note_return(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


@event.listens_for(Engine, "checkout")
def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A connection rested longer than `PING_AFTER_IDLE` is pinged; a dead one is replaced
    before anyone uses it (the pool retries the checkout on `DisconnectionError`)."""
    if "sqlite" in type(dbapi_connection).__module__:
        return
    returned = record.info.get(_RETURNED_AT)
    if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE:
        return
    try:
        # Outside a transaction, as SQLAlchemy's own ping: no ROLLBACK round trip after it.
        transactional = not dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SELECT 1")
        finally:
            if transactional and not dbapi_connection.closed:
                dbapi_connection.autocommit = False
    except Exception as error:
        raise exc.DisconnectionError(f"pooled connection dead: {error}") from error


# --- commits that need not wait for the disk ---------------------------------------------------

_non_durable: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def non_durable(engine: Engine) -> Engine | None:
    """This process's engine on `engine`'s database whose commits do not wait for the disk:
    SQLite `synchronous=NORMAL` (still WAL: a crash loses only the last commits, never the
    file), PostgreSQL `synchronous_commit=off`. Only for what a durable commit of the same
    database follows and makes durable (docs/outbox.md, "The rule"): the day's counter. None
    for a SQLite database in memory, which a second connection would not share."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    side = _non_durable.get(engine)
    if side is None:
        with _lock:
            side = _non_durable.get(engine)
            if side is None:
                side = _non_durable[engine] = _make_non_durable(engine)
    return side


def _make_non_durable(engine: Engine) -> Engine:
    side = _side_engine(engine)
    # Its connections are closed with the engine's (gunicorn's master before it forks).
    event.listen(engine, "engine_disposed", lambda _engine: side.dispose())
    return side


def _side_engine(engine: Engine) -> Engine:
    if engine.dialect.name == "sqlite":
        side = create_engine(engine.url, connect_args={"timeout": 30}, pool_size=1,
                             max_overflow=8)

        @event.listens_for(side, "connect")
        def _normal(dbapi_connection: Any, record: Any) -> None:
            # After the process-wide pragmas (hotline._sqlite_pragmas: WAL, FULL, …).
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return side
    return create_engine(engine.url, pool_size=1, max_overflow=8, connect_args={
        "options": "-c synchronous_commit=off", "application_name": "hotline counter"})


def _forget_in_child() -> None:
    """A forked child (a web worker, a job's process) leaves its parent's connections to the
    parent, unclosed, and opens its own (keeping the engine and its compiled statements)."""
    for side in list(_non_durable.values()):
        side.dispose(close=False)


os.register_at_fork(after_in_child=_forget_in_child)
