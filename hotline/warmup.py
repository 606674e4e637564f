"""Warm-up (预热): what a process's first request or job would pay, paid when the process starts.

A process that has just started pays on its first message for what it loads lazily: jieba's
dictionary and the topic model (routing), the URL map's matcher, OpenSSL's cipher tables, and
every SQL statement SQLAlchemy compiles the first time it runs one. Measured by
`bench/bench_first_message.py`; the target is a first message as fast as the next ones.

Where it runs, so that every process that serves is warm before it serves:

- web: in gunicorn's master under `--preload` (`hotline/wsgi_app.py`), before it opens the
  port and forks the web workers, which start with it all, shared copy-on-write; then each web
  worker, once forked, rehearses once more before its first request (`settle_web_worker`, from
  `hotline/gunicorn_conf.py`), making the shared pages its first request would write its own
  and opening its database connections — and answers a few requests of its own through
  gunicorn's code (a health probe, a case posted by an operator made for it, WeChat's address
  check and a message: the `warm_up_request` providers), on a connection of its own, neither logged nor counted
  (`unseen`), so that the request path itself — the server's parsing, werkzeug's and Flask's
  handling, the commit and what follows it — is ready too. Without `--preload` each worker
  runs all of it before its first request. A web process answers nothing — `/readyz`
  included — before it is warm.
- `hotline worker`: before it starts taking jobs (`workers.worker`). RQ runs each job in a child
  forked from the worker, and whatever a child loads is gone with it: so the worker loads it
  all first, and before forking each job's child it brings what it holds up to date
  (`refresh`: a new topic model or a rule change), so the children never load it themselves.

What is warmed:

- the core: SQLAlchemy's mappers, the URL map, and intake rehearsed — a sample case logged
  through the service and answered through the API's schemas in a transaction that is rolled
  back (`rehearsal`), so that the statements it runs are compiled; a use case that commits,
  as a request or a job does, is rehearsed with `rehearsal_with_commits` (each commit a
  savepoint's release, the jobs it would queue built and dropped);
- each area's `warm_up` provider (`hotline.wiring.PROVIDERS`): routing loads jieba, the lexicons
  and the active model; the WeChat channel decrypts, stores and answers a sample message in a
  rehearsal; the workers' fast path connects to Redis, has RQ learn the server's version and
  imports the job functions, which a first commit's queueing paid otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from .extensions import db

logger = logging.getLogger(__name__)

#: Set in the session's `info` during a rehearsal: a number taken from the day's counter is
#: given back (its transaction rolled back), whether it was taken in the rehearsal's own
#: transaction or, as a request takes it, in one of its own.
REHEARSAL = "hotline_rehearsal"


class RehearsalCommitted(RuntimeError):
    """Something tried to commit inside a rehearsal: refused, nothing is kept."""


@contextmanager
def rehearsal() -> Iterator[None]:
    """A transaction in which a use case runs as it would for real and that is rolled back at
    the end, whatever happens in it. A commit inside is refused (`RehearsalCommitted`), so
    nothing a rehearsal does is ever kept; what commits only announce (jobs queued, router
    changes) never happens."""
    from . import logs

    session = db.session()
    session.rollback()

    def refuse(session: Any) -> None:
        if not session.in_nested_transaction():  # a savepoint's release is no commit
            raise RehearsalCommitted("a rehearsal never commits")

    from sqlalchemy import event

    event.listen(session, "before_commit", refuse)
    session.info[REHEARSAL] = True
    try:
        with logs.bound(request=None, case=None):
            yield
    finally:
        session.info.pop(REHEARSAL, None)
        session.rollback()
        event.remove(session, "before_commit", refuse)


@contextmanager
def rehearsal_with_commits() -> Iterator[None]:
    """A rehearsal in which a use case may commit, as a request does — in the current app
    context (a request served in it runs in it too). Its session is joined to a transaction
    on a connection of the rehearsal's own: each commit only releases a savepoint in it, and
    the whole is rolled back at the end. What a commit announces is rehearsed and dropped:
    the fast path builds the jobs it would queue and throws them away (`workers.relay`)."""
    from sqlalchemy.orm import Session

    from . import logs

    db.session.remove()
    connection = db.engine.connect()
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        # pysqlite begins a transaction only before a write: the session's first savepoint
        # would begin it instead, and releasing that savepoint would commit.
        connection.exec_driver_sql("BEGIN")
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      info={REHEARSAL: True})
    db.session.registry.set(session)
    try:
        with logs.bound(request=None, case=None):
            yield
    finally:
        session.close()
        db.session.registry.clear()
        outer.rollback()
        connection.close()


def in_rehearsal() -> bool:
    return bool(db.session().info.get(REHEARSAL))


#: The sample of the core's rehearsal: a citizen's call logged by an operator.
SAMPLE_CASE = {
    "line": "fupin", "channel": "phone",
    "content": "贵阳市云岩区小区噪音扰民，晚上十点以后还在施工，请相关部门管一管。",
    "citizen": {"name": "预热", "phone": "13800000000"},
}


def warm_up(app: Flask) -> None:
    """Load and compile now what the process's first request or job would wait for (see the
    module's docstring). A part that cannot run (a database not migrated yet, a line missing)
    is logged and left to its first use."""
    from sqlalchemy.orm import configure_mappers

    from .wiring import wiring_of

    configure_mappers()
    app.url_map.update()  # the URL matcher, built at the first request otherwise
    rehearse(app, "intake", _rehearse_intake)
    for load in wiring_of(app).providers.get("warm_up", []):
        load(app)


def rehearse(app: Flask, what: str, fn: Callable[[], None]) -> None:
    """Run a part of the warm-up, `fn`, in an app context of its own. A part that cannot run
    (a database not migrated yet, a line or an account missing) is logged as `what` not
    rehearsed and left to its first use; the session is removed after, whatever happened."""
    with app.app_context():
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 (warm-up is best effort: first use loads it)
            logger.info("warm-up: %s not rehearsed: %s", what, exc)
        finally:
            db.session.remove()


def refresh(app: Flask) -> None:
    """Bring what this process keeps between jobs up to date (the `refresh` providers: the
    router after a rule change or a new model) — in a worker, before it forks a job's child,
    so that each child starts with it instead of loading it again. Cheap when nothing
    changed (one Redis GET)."""
    from .wiring import wiring_of

    for bring_up_to_date in wiring_of(app).providers.get("refresh", []):
        bring_up_to_date(app)


def _rehearse_intake() -> None:
    """`POST /api/v1/cases` as the API runs it, in a rehearsal: the token's lookup, the body's
    validation, intake with what follows it (routing, notices, report figures) and the
    answer's serialisation."""
    from .api.auth import user_of_token
    from .api.cases import _detail
    from .api.schemas import CaseCreateSchema
    from .domain.lifecycle import Actor
    from .services import create_case

    line = _first_line()
    if line is None:
        logger.info("warm-up: no line yet; intake not rehearsed")
        return
    with rehearsal():
        user_of_token("warm-up")
        data = CaseCreateSchema().load({**SAMPLE_CASE, "line": line.code})
        case, _created = create_case(data, Actor(name="warm-up", role="operator"),
                                     commit=False)
        _detail.dump(case)


def _post_case(serve: Serve) -> None:
    """`POST /api/v1/cases` answered through the server, by an operator made for it in the
    rehearsal (rolled back with the case): the server's and the API's handling of a posted
    JSON body with a bearer token, the answer's JSON written back, the route's request metrics."""
    from .identity import create_user

    line = _first_line()
    if line is None:
        return
    with rehearsal_with_commits():
        _user, token = create_user("预热-warm-up-operator", "operator", None)
        body = json.dumps({**SAMPLE_CASE, "line": line.code}, ensure_ascii=False).encode()
        expect_answer(serve(http_request("POST", "/api/v1/cases", body, {
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})),
            b"201 CREATED")


def _first_line() -> Any:
    from sqlalchemy import select

    from .models import Line

    return db.session.scalar(select(Line).where(Line.active.is_(True)).order_by(Line.id))


#: A request as a client sends it (the raw bytes of HTTP/1.1) → the server's raw answer: how
#: a settling web worker answers its own rehearsed requests (`hotline.gunicorn_conf`).
Serve = Callable[[bytes], bytes]

_unseen = False


def unseen() -> bool:
    """Whether this process is answering its own rehearsed requests (a web worker settling,
    before it takes any client's): the request log and the metrics leave them out."""
    return _unseen


@contextmanager
def _answering_own_requests() -> Iterator[None]:
    global _unseen
    _unseen = True
    try:
        yield
    finally:
        _unseen = False


def settle_web_worker(app: Flask, serve: Serve | None = None) -> None:
    """In a web worker just forked from a warm master (`hotline.gunicorn_conf`): the warm-up
    once more, so that the pages the first request would touch are this process's own before
    it serves, and the database pool holds the two connections an intake uses (its own and the
    one its case number is taken on). Given `serve`, requests too, answered by the server's
    own code as a client's would be (parsing, the app, the answer written back), so that
    what only a request runs — the server's, werkzeug's and Flask's request handling, the
    request log — is this process's own and ready too: a health probe, a case posted to the
    API, then each area's (the `warm_up_request` providers). None of them is logged or counted, nor leaves anything
    behind."""
    from .engines import non_durable
    from .wiring import wiring_of

    warm_up(app)
    with app.app_context(), db.engine.connect():
        apart = non_durable(db.engine)
        if apart is not None:
            apart.connect().close()
    if serve is None:
        return
    with _answering_own_requests():
        rehearse(app, "a health probe",
                 lambda: expect_answer(serve(http_request("GET", "/healthz")), b"200 OK"))
        rehearse(app, "a case posted", lambda: _post_case(serve))
        for rehearse_request in wiring_of(app).providers.get("warm_up_request", []):
            rehearse_request(app, serve)


def http_request(method: str, target: str, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> bytes:
    """The bytes a client sends for this request (HTTP/1.1, the connection closed after)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def expect_answer(answer: bytes, status: bytes) -> None:
    """Raise unless `answer` has this status (`b"200 OK"`): the rehearsal is logged as not
    done."""
    if not answer.startswith(b"HTTP/1.1 " + status):
        raise RuntimeError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
