"""The database connections a web process keeps between requests: a pooled connection that the
database server dropped while it rested is replaced before a request uses it, for the
request's own connection and for the one its case number is taken on (`hotline.engines`)."""

from __future__ import annotations

import psycopg
import pytest

from hotline import engines
from hotline.extensions import db

from ..conftest import TEST_DB_URL


@pytest.mark.skipif(not (TEST_DB_URL or "").startswith("postgresql"),
                    reason="a SQLite connection is a file: nothing to drop it")
def test_an_intake_after_the_server_dropped_the_resting_connections_is_answered(
        app, api, tokens, new_case, monkeypatch):
    new_case()  # the pool holds the request's connection and the counter's
    with db.engine.connect() as connection:
        own = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    monkeypatch.setattr(engines, "PING_AFTER_IDLE", 0.0)  # they have rested long enough
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 2, "the server had the request's and the counter's connections"

    second = new_case()
    assert second["number"].endswith("-0002"), second
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != own
