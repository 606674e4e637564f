"""Redis stopped (a real redis-server) while cases come in and move on: every request succeeds
quickly, and once Redis is back every message that waited goes out exactly once."""

from __future__ import annotations

import time

import pytest

from .conftest import outbox, relay_and_work, work


@pytest.fixture
def config_overrides() -> dict:
    return {"OUTBOX_RELAY_GRACE_SECONDS": 0}


def test_intake_and_actions_succeed_while_redis_is_down_and_messages_go_out_once_after(
        new_case, step, app, api, tokens, redis_server, fake_twilio):
    with redis_server.down():
        started = time.monotonic()
        case = new_case()
        number = case["number"]
        step(number, "dispatch", {"department": "gz-hrss"})
        step(number, "accept", as_="handler")
        step(number, "reply", {"text": "已协调支付。"}, as_="handler")
        step(number, "review", {"approve": True}, as_="supervisor")
        step(number, "close")
        other = new_case(citizen={"name": "陈红", "phone": "13708512222"})
        step(other["number"], "dispatch", {"department": "gov-520100"})
        elapsed = time.monotonic() - started
        assert [m.status for m in outbox()] == ["pending"] * 5
        assert api.get("/readyz").status_code == 503
    assert elapsed < 10  # nobody waited on the dead Redis (7 requests)

    relay_and_work(app)
    relay_and_work(app)  # and again: nothing more goes out
    assert [m.status for m in outbox()] == ["sent"] * 5
    bodies = [(m["to"], m["body"]) for m in fake_twilio.messages]
    assert len(bodies) == 5 and len(set(bodies)) == 5
    assert sum(to == "+8613708512222" for to, _ in bodies) == 1


def test_message_whose_job_redis_lost_is_queued_again_after_the_relay_lease(
        new_case, step, app, redis_server, fake_twilio):
    from workers.relay import relay

    case = new_case()
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    redis_server.flushall()  # the queued job is gone (a Redis without persistence restarted)
    assert relay().queued == 1
    redis_server.flushall()  # and gone again
    assert relay().queued == 0  # queued a moment ago: its job may still be on its way
    work(app)
    assert outbox()[0].status == "pending"

    app.config["OUTBOX_RELAY_LEASE_SECONDS"] = 0  # as when the lease has run out
    relay_and_work(app)
    assert outbox()[0].status == "sent"
    assert len(fake_twilio.messages) == 1
