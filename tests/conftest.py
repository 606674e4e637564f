"""Shared fixtures: an app on a real database (SQLite by default; PostgreSQL when

HOTLINE_TEST_DATABASE_URL names one), migrated once per session and emptied between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from hotline import create_app
from hotline.extensions import db

pytest_plugins = ["tests.fakeservers.fixtures"]

TEST_DB_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def app_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    instance = tmp_path_factory.mktemp("instance")
    url = TEST_DB_URL or f"sqlite:///{instance}/test.db"
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "REDIS_URL": None,
    }


@pytest.fixture(scope="session")
def _migrated(app_config: dict[str, Any]) -> dict[str, Any]:
    from hotline.cli import upgrade_database

    app = create_app(app_config)
    with app.app_context():
        if TEST_DB_URL:  # a reused PostgreSQL database: start from an empty schema
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
    upgrade_database(app)
    return app_config


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@contextmanager
def seeded_app(config: dict[str, Any]) -> Iterator[Any]:
    """An app on the emptied test database with the demo data, inside its app context."""
    from hotline.seed import seed_demo
    from hotline.services import forget_calendar

    app = create_app(config)
    with app.app_context():
        _empty_tables()
        forget_calendar()  # a year another test set is gone with its table
        seed_demo()
        yield app
        db.session.remove()
        db.engine.dispose()  # its connections (and the counter's) closed now, not at a collection


@pytest.fixture
def app(_migrated: dict[str, Any]) -> Iterator[Any]:
    with seeded_app(_migrated) as app:
        yield app


@dataclass
class Api:
    """A thin client for the staff API: `api.post("/cases", token, {...})`."""

    client: Any

    def call(self, method: str, path: str, token: str | None = None, json: Any = None,
             headers: dict | None = None, **kw: Any):
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith(("/api/", "/healthz", "/readyz", "/channels", "/open311")):
            path = "/api/v1" + path
        return self.client.open(path, method=method, json=json, headers=hdrs, **kw)

    def get(self, path: str, token: str | None = None, **kw: Any):
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, json: Any = None, **kw: Any):
        return self.call("POST", path, token, json=json, **kw)

    def put(self, path: str, token: str | None = None, json: Any = None, **kw: Any):
        return self.call("PUT", path, token, json=json, **kw)

    def patch(self, path: str, token: str | None = None, json: Any = None, **kw: Any):
        return self.call("PATCH", path, token, json=json, **kw)


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app.test_client())


@dataclass
class Tokens:
    operator: str
    supervisor: str
    admin: str
    handler: str  # of gz-hrss
    other_handler: str  # of gov-520100


def make_tokens() -> Tokens:
    """The five staff users of the tests (op1, sup1, admin1, hrss1, gy1) and their tokens."""
    from hotline.api.admin import create_user

    made = {}
    for name, role, dep in (("op1", "operator", None), ("sup1", "supervisor", None),
                            ("admin1", "admin", None), ("hrss1", "handler", "gz-hrss"),
                            ("gy1", "handler", "gov-520100")):
        made[name] = create_user(name, role, dep)[1]
    return Tokens(made["op1"], made["sup1"], made["admin1"], made["hrss1"], made["gy1"])


@pytest.fixture
def tokens(app: Any) -> Tokens:
    return make_tokens()


CASE = {
    "line": "zhitongche",
    "channel": "phone",
    "category": "situation",
    "content": "我公司是贵阳市一家民营企业，某区住建部门拖欠我公司工程款三百余万元，已两年未结清，"
               "导致我们拖欠农民工工资，请省长直通车帮助协调。",
    "citizen": {"name": "王建国", "phone": "13985012345", "enterprise": "贵州黔兴建筑有限公司"},
    "region": "520100",
}


@pytest.fixture
def new_case(api: Api, tokens: Tokens):
    """Log a case as the operator and return its JSON."""

    def make(**overrides: Any) -> dict:
        body = {**CASE, **overrides}
        resp = api.post("/cases", tokens.operator, body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    return make


@pytest.fixture
def reopened_case(api: Api, tokens: Tokens, new_case: Any):
    """A case closed, so surveyed, and then reopened (重办) before the citizen answered."""

    def make(**overrides: Any) -> dict:
        number = new_case(**overrides)["number"]
        for action, who, body in (
                ("dispatch", tokens.operator, {"department": "gz-hrss"}),
                ("accept", tokens.handler, {}),
                ("reply", tokens.handler, {"text": "经协调，区住建局已制定付款计划，工程款将于本月底前付清。"}),
                ("review", tokens.supervisor, {"approve": True}),
                ("close", tokens.operator, {}),
                ("reopen", tokens.supervisor, {"reason": "回访发现工程款仍未支付"})):
            resp = api.post(f"/cases/{number}/{action}", who, body)
            assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return make


@pytest.fixture
def json_log() -> Iterator[Any]:
    """This process's log lines in the JSON format of `hotline.logs`, at INFO, while the test
    runs: call the fixture's value for the lines so far, parsed."""
    import io
    import json
    import logging

    from hotline.logs import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("test", stream=stream, fmt="json", level="INFO")
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def small_topic_model() -> Any:
    """A topic model trained on twelve real messages of each topic (the same every run): a
    model to store and activate, trained in seconds."""
    import random

    from routing.learned import TopicModel, shipped_examples

    rng = random.Random(15)
    by_topic: dict[str, list] = {}
    for example in shipped_examples():
        if example.form == "raw":
            by_topic.setdefault(example.topic, []).append(example)
    sample = [e for topic in sorted(by_topic) for e in rng.sample(by_topic[topic], 12)]
    return TopicModel.train(sample, temperature=0.3)


def activate_topic_model(model: Any) -> int:
    """Store `model` as a new routing model and make it the active one (as a retrain does);
    its id."""
    from sqlalchemy import update

    from hotline.models import RoutingModel

    db.session.execute(update(RoutingModel).values(active=False))
    row = RoutingModel(created_by="test", examples=model.meta["examples"],
                       figures={"meta": model.meta}, blob=model.dumps(), active=True)
    db.session.add(row)
    db.session.commit()
    return row.id

