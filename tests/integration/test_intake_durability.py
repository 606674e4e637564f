"""Intake's commits wait for the disk, whatever shortcut the case number takes: the day's
counter is committed without waiting (the case's own commit makes it durable), and the
database connections it used must go back to the pool as durable as they came."""

from __future__ import annotations

from contextlib import ExitStack

from hotline.extensions import db


def _durability(connection) -> str:
    if connection.dialect.name == "sqlite":
        return {2: "full"}.get(connection.exec_driver_sql("PRAGMA synchronous").scalar(), "not full")
    return connection.exec_driver_sql("SHOW synchronous_commit").scalar()


def test_every_connection_commits_durably_after_intakes(app, new_case):
    numbers = [new_case()["number"] for _ in range(3)]
    assert len(set(numbers)) == 3
    with app.app_context(), ExitStack() as stack:
        # All the pool holds at once: the counter's connection among them.
        connections = [stack.enter_context(db.engine.connect()) for _ in range(4)]
        assert {_durability(c) for c in connections} == {
            "full" if db.engine.dialect.name == "sqlite" else "on"}
