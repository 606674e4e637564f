"""Each process keeps copies of users, lines and departments between requests
(`hotline.reference`); a change made by another process — here another app on the same
database, with its own engine, as another web worker has — counts at this process's very next
request, as if it had read the rows itself."""

from __future__ import annotations

import gc
import weakref
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from hotline import create_app, identity, reference
from hotline.extensions import db
from hotline.models import Department, Line, User
from tests.conftest import CASE


@contextmanager
def another_process(app: Any):
    """An app of its own on the same database (its own engine and copies), in its context.
    After it, this app's next request is a transaction of its own, as every request is (the
    tests' requests share the test's session)."""
    other = create_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "REDIS_URL")},
                        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                        "INSTANCE_PATH": app.instance_path})
    db.session.commit()
    with other.app_context():
        yield
        db.session.remove()
    db.session.commit()


def test_a_token_revoked_in_another_process_is_refused_at_the_next_request(app, api, tokens):
    assert api.get("/cases", tokens.operator).status_code == 200  # its user is kept now
    with another_process(app):
        identity.revoke_token(db.session.scalar(select(User).where(User.name == "op1")))
        db.session.commit()
    refused = api.get("/cases", tokens.operator)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"


def test_a_role_changed_in_another_process_counts_at_the_next_request(app, api, tokens):
    assert api.post("/cases", tokens.operator, CASE).status_code == 201
    with another_process(app):
        user = db.session.scalar(select(User).where(User.name == "op1"))
        identity.change_role(user, "handler", "gz-hrss", by=None)
        db.session.commit()
    assert api.post("/cases", tokens.operator, CASE).status_code == 403


def test_a_line_switched_off_in_another_process_takes_no_case_at_the_next_request(
        app, api, tokens):
    assert api.post("/cases", tokens.operator, CASE).status_code == 201  # its line is kept
    with another_process(app):
        db.session.scalar(select(Line).where(Line.code == CASE["line"])).active = False
        db.session.commit()
    refused = api.post("/cases", tokens.operator, CASE)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "unknown_reference"


def test_a_department_switched_off_in_another_process_is_not_dispatched_to(app, api, tokens):
    body = {**CASE, "department": "gz-hrss"}
    assert api.post("/cases", tokens.operator, body).status_code == 201  # it is kept
    with another_process(app):
        db.session.scalar(select(Department).where(Department.code == "gz-hrss")).active = False
        db.session.commit()
    refused = api.post("/cases", tokens.operator, body)
    assert refused.status_code == 422, refused.get_json()


def test_a_line_changed_in_this_transaction_is_read_as_changed(app):
    """A transaction that changed a line reads its own change, not the kept copy."""
    from hotline import services

    assert services.find_line(CASE["line"]).active
    db.session.commit()
    db.session.scalar(select(Line).where(Line.code == CASE["line"])).reply_days = 3
    db.session.flush()
    assert services.find_line(CASE["line"]).reply_days == 3
    db.session.rollback()
    assert services.find_line(CASE["line"]).reply_days != 3


def test_a_copy_keeps_no_session_and_so_no_connection_alive(app):
    """The copies kept between requests hold plain values: a department's copy once kept the
    session that read it (a result row holds its query's context), and with it that session's
    engine and pooled connections: on PostgreSQL each test's app then kept a connection open
    until the server had no slot left."""
    db.session.commit()
    db.session.remove()
    session = weakref.ref(db.session())
    assert reference.department("gz-hrss").name == "贵州省人力资源和社会保障厅"
    assert reference.department("gz-hrss").active
    assert reference.line("fupin").code == "fupin"
    db.session.remove()
    gc.collect()
    assert session() is None, "a kept copy holds the session that read it"
