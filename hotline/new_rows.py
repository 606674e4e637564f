"""A new case's rows written in one go, without the ORM's unit of work.

Intake makes one case, its first timeline steps (logged, routing's duplicate link, the
dispatch) and the messages that follow them (the citizen's status message, the department's
notice): rows no one else can have seen yet, always of that shape. `write_new_case` inserts
them with one statement per table and makes them the session's persistent instances, as a
flush does, for a fraction of a flush's CPU (the unit of work sorts the self-referencing
`cases` table row by row and keeps every attribute's history).

The session's flush listeners (`hotline.wiring.SESSION_LISTENERS`, the stored text's clean-up)
run as for a flush, before and after the statements, while the rows are still the session's
new ones: the report figures, the change stamps, the audit list and the outbox's fast path see
what a flush would show them. Anything else waiting in the session — a changed row, a row of
another kind or of another case — is left to an ordinary flush: `write_new_case` then writes
nothing and says so.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, attributes
from sqlalchemy.orm.interfaces import MANYTOONE

from .models import Case, CaseCohandler, CaseEvent, OutboxMessage

# What hangs on a new case by its `case` relationship, in the order their rows are written.
CHILDREN: tuple[type, ...] = (CaseEvent, CaseCohandler, OutboxMessage)


def write_new_case(session: Session, case: Case) -> bool:
    """Insert the new `case` and its new rows (`CHILDREN`) and make them persistent; False,
    with nothing written, when the session holds anything else to flush."""
    if inspect(case).key is not None or session.dirty or session.deleted \
            or not hasattr(session, "_register_persistent"):
        return False
    children: dict[type, list[Any]] = {kind: [] for kind in CHILDREN}
    for obj in session.new:
        if obj is case:
            continue
        rows = children.get(type(obj))
        if rows is None or obj.__dict__.get("case") is not case:
            return False
        rows.append(obj)
    if not session.new:
        return False

    session.dispatch.before_flush(session, None, None)
    if session.dirty or session.deleted or len(session.new) != 1 + sum(map(len, children.values())):
        # No listener adds or changes rows before a flush (the stored text's clean-up changes
        # only these new ones); one that did would need this module to learn of it.
        raise RuntimeError("a before_flush listener added or changed rows of a new case's "
                           "transaction: hotline.new_rows cannot write them")
    connection = session.connection()
    _insert(connection, [case])
    for kind in CHILDREN:
        rows = sorted(children[kind], key=lambda obj: inspect(obj).insert_order)
        if rows:
            _insert(connection, rows)
    session.dispatch.after_flush(session, None)
    # What a flush does last (`UOWTransaction.finalize_flush_changes`): the rows are the
    # session's persistent instances, taken back out again if the transaction rolls back.
    session._register_persistent({inspect(obj) for obj in (case, *_all(children))})
    session.dispatch.after_flush_postexec(session, None)
    return True


def _all(children: dict[type, list[Any]]) -> list[Any]:
    return [obj for rows in children.values() for obj in rows]


def _insert(connection: Any, objects: list[Any]) -> None:
    """One INSERT of these new instances of one class; their keys and the columns' defaults
    put back on them."""
    shape = _shape(inspect(objects[0]).mapper)
    params = [_values(obj, shape) for obj in objects]
    if shape.version is not None:  # a new row's first version, as a flush sets it
        first = shape.mapper.version_id_generator(None)
        for row in params:
            row[shape.version] = first
    if len(objects) == 1:
        result = connection.execute(shape.insert_one, params[0])
        keys = [result.inserted_primary_key[0]]
        written = [result.last_inserted_params()]
    else:
        result = connection.execute(shape.insert_many, params)
        keys = [row[0] for row in result.all()]
        written = result.last_inserted_params()
    for obj, key, row in zip(objects, keys, written, strict=True):
        own = inspect(obj).dict
        own[shape.primary_key] = key
        for attr, column in shape.columns:
            if attr not in own and column in row:
                own[attr] = row[column]


class _Shape(NamedTuple):
    """What writing a class's new rows needs of its mapper, worked out once per class: its
    statements (building one at every case costs more CPU than running it), its columns, and
    the many-to-one relationships whose columns a row takes from the row it names."""

    mapper: Any
    insert_one: Any
    insert_many: Any
    primary_key: str
    version: str | None
    columns: tuple[tuple[str, str], ...]  # (attribute, column)
    # (relationship, ((column, attribute of the named row), …))
    named: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@lru_cache(maxsize=16)
def _shape(mapper: Any) -> _Shape:
    table = mapper.local_table
    primary = mapper.primary_key[0]
    named = tuple(
        (relationship.key, tuple(
            (local.key, relationship.mapper.get_property_by_column(remote).key)
            for local, remote in relationship.local_remote_pairs))
        for relationship in mapper.relationships if relationship.direction is MANYTOONE)
    return _Shape(
        mapper=mapper,
        insert_one=insert(table),
        insert_many=insert(table).returning(primary, sort_by_parameter_order=True),
        primary_key=mapper.get_property_by_column(primary).key,
        version=None if mapper.version_id_col is None else mapper.version_id_col.key,
        columns=tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs),
        named=named)


def _values(obj: Any, shape: _Shape) -> dict[str, Any]:
    """The row of a new instance: the columns it holds, with those of the many-to-one
    relationships set on it taken from the rows they name (as a flush syncs them)."""
    state = inspect(obj)
    own = state.dict
    row = {column: own[attr] for attr, column in shape.columns if attr in own}
    for relationship, pairs in shape.named:
        added = attributes.get_state_history(
            state, relationship, attributes.PASSIVE_NO_INITIALIZE).added
        if not added:
            continue
        target = added[0]
        for local, remote in pairs:
            row[local] = None if target is None else getattr(target, remote)
    return row
