"""Hotline: the core of the citizen hotline backend — app factory, models, lifecycle, staff API."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import load_config
from .extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the Flask app; `config` overrides the environment (tests, embedded run).

    `web=False` builds it for a process that serves no request and takes no case's step (`hotline
    create-user`, `set-password`, the supervisor of `hotline run`): the database, its models and
    everything that watches its transactions (the audit list among them) as always, but no web
    parts — the API, the console, the channels' pages and webhooks, the metrics — and none of
    the areas' own settings: CPU such a process would spend for nothing."""
    with loading():
        return _build_app(config, web)


def _build_app(config: dict[str, Any] | None, web: bool) -> Flask:
    import os

    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("HOTLINE_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance)
    app.config.update(load_config(app.instance_path, config))
    app.json.ensure_ascii = False  # Chinese stays readable in every JSON answer
    app.json.sort_keys = False

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    # engines: when pooled connections are checked; models: register the tables.
    from . import engines, logs, models, wiring  # noqa: F401

    if not web:
        wiring.wire(app, areas_init=False)
        return app
    from .api import register

    logs.init_app(app)  # first: every request has its id before anything else runs
    register(app)
    from . import metrics
    from .webforms import install_cookie_defaults

    metrics.init_app(app)
    install_cookie_defaults(app)
    from . import console

    console.init_app(app)
    # The areas outside the core, what follows each step and what watches every transaction
    # (the report figures, the audit list among them): hotline/wiring.py.
    wiring.wire(app)
    return app


def warm_up(app: Flask) -> None:
    """Load and compile now what a process's first request or job would otherwise wait for
    (`hotline.warmup`): in gunicorn's master before it forks the web workers (the WSGI
    modules) and as `hotline worker` starts (before it forks a child per job)."""
    from .warmup import warm_up as warm

    with loading():
        warm(app)


@contextmanager
def loading() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a process loads what it keeps for its
    whole life — the modules and the app (`create_app`), the warm-up's dictionaries and topic
    model (`warm_up`) — and running again after, as it was. Its passes over a heap that only
    grows find nothing to free and cost a fifth of a start's CPU: 3.1-3.3 s instead of 3.7-4.1 s
    for the app and its warm-up, measured; the garbage the loading left is collected by its
    next pass (a web worker's master and `hotline worker` collect it before `gc.freeze`)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite durability (docs/outbox.md, "The rule"): WAL, a full fsync on every commit, foreign keys on."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
