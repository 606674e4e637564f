"""Fixtures of the workers' tests: an app wired to a real Redis and to the fake Twilio and
WeChat servers, real RQ workers, and helpers that bring a case to a given step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select, update

from hotline import create_app
from hotline.extensions import db
from hotline.models import Line, OutboxMessage
from hotline.queue import QUEUE_NAMES
from tests.conftest import _empty_tables
from workers.worker import HotlineSimpleWorker

PUBLIC = "https://rx.guizhou.example"
OPENID = "oGZfupin_8m3kQw2Jt7LxVb0aCzE"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """What a test module changes in the app's configuration (override the fixture)."""
    return {}


@pytest.fixture
def app(_migrated: dict[str, Any], redis_url: str, fake_twilio: Any, fake_wechat: Any,
        config_overrides: dict[str, Any]) -> Iterator[Any]:
    from hotline.seed import seed_demo

    config = {
        **_migrated,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC,
        **fake_twilio.config(),
        **fake_wechat.config(),
        "WECHAT_TEMPLATE_ID": "TM-case-progress",
        "SENDER_TIMEOUT": 2,
        "OUTBOX_BACKOFF_SECONDS": 0,
        **config_overrides,
    }
    app = create_app(config)
    with app.app_context():
        _empty_tables()
        seed_demo()
        # Routing would dispatch confident cases at intake; these tests take each step by hand.
        db.session.execute(update(Line).values(auto_dispatch_threshold=2.0))
        db.session.commit()
        yield app
        db.session.remove()


def work(app: Any) -> None:
    """Run every queued job with a real RQ worker (in this process), until the queues are empty."""
    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        HotlineSimpleWorker(list(QUEUE_NAMES), connection=connection).work(burst=True)


def relay_and_work(app: Any, rounds: int = 3) -> None:
    """What the schedule does over a while: relay due messages, work them off; a few times, so
    that retries come round."""
    from workers.relay import relay

    for _ in range(rounds):
        relay()
        work(app)


def outbox(case_number: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    rows = db.session.scalars(query).all()
    if case_number:
        rows = [r for r in rows if r.case and r.case.number == case_number]
    return rows


@pytest.fixture
def step(api: Any, tokens: Any):
    """step(number, action, body=None, as_="operator") performs a lifecycle action and returns
    the case JSON; the action must succeed."""

    def run(number: str, action: str, body: dict | None = None, as_: str = "operator") -> dict:
        resp = api.post(f"/cases/{number}/{action}", getattr(tokens, as_), body or {})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return run


@pytest.fixture
def closed_case(new_case: Any, step: Any):
    """A case taken from intake to closure (dispatch → accept → reply → review → close)."""

    def make(**overrides: Any) -> dict:
        case = new_case(**overrides)
        number = case["number"]
        step(number, "dispatch", {"department": "gz-hrss"})
        step(number, "accept", as_="handler")
        step(number, "reply", {"text": "经协调，区住建局已制定付款计划，工程款将于本月底前分两期支付完毕。"},
             as_="handler")
        step(number, "review", {"approve": True}, as_="supervisor")
        return step(number, "close")

    return make
