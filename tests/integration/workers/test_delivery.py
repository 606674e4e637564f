"""Delivery of outbox messages: retries with backoff, reconciliation before a resend, dead
letters staff can see and retry, WeChat messages whose fate is unknown, and the outbox of a
case in the staff API."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from hotline import inbox
from hotline.extensions import db
from hotline.models import OutboxMessage
from hotline.outbox import enqueue
from workers.relay import INBOX_QUEUE, SEND_QUEUE, backoff, deliver, relay

from .conftest import OPENID, outbox, relay_and_work, work

MOBILE = "+8613985012345"


@pytest.fixture
def config_overrides() -> dict:
    return {"OUTBOX_MAX_ATTEMPTS": 3}


@pytest.fixture
def dispatched(new_case, step):
    """A case dispatched to 省人社厅: its citizen gets one SMS."""

    def make(**overrides) -> dict:
        case = new_case(**overrides)
        step(case["number"], "dispatch", {"department": "gz-hrss"})
        return case

    return make


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_message_is_queued_at_commit_without_waiting_for_the_relay(dispatched, app):
    dispatched()
    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        assert Queue("notifications", connection=connection).count == 1


def test_messages_written_before_a_savepoint_rolled_back_are_queued_at_the_commit(app):
    """A savepoint rolled back in a transaction (here a WeChat message stored twice, refused as
    a concurrent webhook's would be) takes back only what was written in it: the messages the
    transaction wrote before go to the workers at its commit, not a relay's lease later."""
    message_id = inbox.store("wechat", "msg:default:savepoint-1", OPENID, {"xml": "<xml/>"}).id
    enqueue(None, "sms", MOBILE, "您的诉求已受理。", "status")
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        enqueue(None, "sms", MOBILE, "这一条随保存点撤回。", "status")
        inbox.store("wechat", "msg:default:savepoint-1", OPENID, {"xml": "<xml/>"})
    db.session.commit()

    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        inbound = Queue(INBOX_QUEUE, connection=connection).jobs
        sends = Queue(SEND_QUEUE, connection=connection).jobs
    assert [job.args for job in inbound] == [(message_id,)]
    assert [job.args for job in sends] == [(outbox()[0].id,)]
    assert [m.text for m in outbox()] == ["您的诉求已受理。"]


def test_provider_error_is_retried_and_the_message_arrives_once(dispatched, app, fake_twilio):
    fake_twilio.fail_next(status=500, path="Messages.json")
    case = dispatched()
    work(app)
    first = outbox(case["number"])[0]
    assert (first.status, first.attempts, first.maybe_sent) == ("failed", 1, True)
    assert "500" in first.last_error

    relay_and_work(app)
    row = outbox(case["number"])[0]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(fake_twilio.messages) == 1
    # Before resending, the relay asked Twilio whether the failed attempt had gone out.
    assert fake_twilio.requests_to("Messages.json", "GET")


def test_timed_out_send_that_twilio_took_is_found_and_not_sent_again(dispatched, app,
                                                                     fake_twilio):
    fake_twilio.delay_next(seconds=2.5, path="Messages.json")  # the sender gives up after 2 s
    case = dispatched()
    work(app)
    assert outbox(case["number"])[0].status == "failed"
    wait_until(lambda: len(fake_twilio.messages) == 1)  # Twilio finished it after all

    relay_and_work(app)
    row = outbox(case["number"])[0]
    assert row.status == "sent"
    assert row.provider_id == fake_twilio.messages[0]["sid"]
    assert "not sent again" in row.last_error
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.requests_to("Messages.json", "POST")) == 1


def test_rate_limited_message_backs_off_and_dies_after_its_last_attempt(dispatched, app,
                                                                        fake_twilio):
    fake_twilio.fail_next(5, status=429, path="Messages.json")
    case = dispatched()
    relay_and_work(app, rounds=4)

    row = outbox(case["number"])[0]
    assert (row.status, row.attempts) == ("dead", 3)
    assert row.last_error.startswith("gave up after 3 attempts")
    assert fake_twilio.messages == []


def test_backoff_doubles_up_to_its_cap(app):
    app.config.update(OUTBOX_BACKOFF_SECONDS=30, OUTBOX_BACKOFF_MAX_SECONDS=3600)
    waits = [backoff(app, n).total_seconds() for n in (1, 2, 3, 8, 20)]
    assert 24 <= waits[0] <= 36 and 48 <= waits[1] <= 72 and 96 <= waits[2] <= 144
    assert 2880 <= waits[3] <= 4320 and waits[4] <= 4320


def test_unsubscribed_number_is_a_dead_letter_the_operator_can_retry(dispatched, app, api,
                                                                     tokens, fake_twilio):
    fake_twilio.unsubscribe(MOBILE)
    case = dispatched()
    work(app)

    letters = api.get("/supervision/dead-letters", tokens.operator).get_json()["items"]
    assert [(m["case"], m["status"], m["purpose"]) for m in letters] == \
        [(case["number"], "dead", "notify")]
    assert "21610" in letters[0]["last_error"]
    assert api.get("/supervision/dead-letters", tokens.handler).status_code == 403

    fake_twilio.unsubscribed.clear()  # the citizen texted START again
    retried = api.post(f"/outbox/{letters[0]['id']}/retry", tokens.operator,
                       {"note": "市民已恢复接收短信"})
    assert retried.status_code == 200
    assert (retried.get_json()["status"], retried.get_json()["handled_by"]) == ("pending", "op1")
    work(app)  # queued at the commit of the retry
    assert outbox(case["number"])[0].status == "sent"
    assert len(fake_twilio.messages) == 1
    assert api.get("/supervision/dead-letters", tokens.operator).get_json()["items"] == []
    again = api.post(f"/outbox/{letters[0]['id']}/retry", tokens.operator, {})
    assert again.status_code == 409


def test_wechat_send_cut_off_goes_to_staff_as_unknown_and_is_not_resent(
        dispatched, app, api, tokens, fake_wechat):
    fake_wechat.fail_next(status=502, path="message/custom")
    case = dispatched(channel="wechat", citizen={"openid": OPENID})
    relay_and_work(app)

    row = outbox(case["number"])[0]
    assert (row.status, row.attempts) == ("unknown", 1)
    assert row.last_error.startswith("发送状态未知")
    letters = api.get("/supervision/dead-letters", tokens.supervisor).get_json()["items"]
    assert [m["status"] for m in letters] == ["unknown"]
    assert len(fake_wechat.requests_to("message/custom", "POST")) == 1

    resolved = api.post(f"/outbox/{row.id}/resolve", tokens.operator,
                        {"outcome": "sent", "note": "电话核实：市民已收到微信消息"})
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "sent"
    relay_and_work(app)
    assert len(fake_wechat.requests_to("message/custom", "POST")) == 1


def test_unknown_wechat_message_retried_by_staff_goes_out(dispatched, app, api, tokens,
                                                         fake_wechat):
    fake_wechat.fail_next(status=502, path="message/custom")
    case = dispatched(channel="wechat", citizen={"openid": OPENID})
    work(app)
    row = outbox(case["number"])[0]
    assert row.status == "unknown"

    api.post(f"/outbox/{row.id}/retry", tokens.operator, {"note": "市民说没收到"})
    work(app)
    assert outbox(case["number"])[0].status == "sent"
    assert len(fake_wechat.sent_to(OPENID)) == 1


def test_attempt_cut_off_mid_send_is_checked_with_twilio_and_wechat_goes_to_staff(
        dispatched, app, fake_twilio, fake_wechat):
    sms_case = dispatched()
    wechat_case = dispatched(channel="wechat", citizen={"openid": OPENID})
    # As a worker killed between "sending" and the result would leave them, three minutes ago.
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    db.session.execute(update(OutboxMessage).values(status="sending", attempts=1,
                                                    claimed_at=long_ago))
    db.session.commit()

    report = relay()
    assert (report.recovered, report.unknown) == (1, 1)
    work(app)
    assert [r.status for r in outbox(sms_case["number"])] == ["sent"]
    assert [r.status for r in outbox(wechat_case["number"])] == ["unknown"]
    assert len(fake_twilio.messages) == 1  # Twilio had nothing: sent now, once
    assert fake_wechat.sent == []


def test_attempt_still_within_its_lease_is_left_alone(dispatched, app):
    case = dispatched()
    db.session.execute(update(OutboxMessage).values(
        status="sending", attempts=1, claimed_at=dt.datetime.now(dt.UTC)))
    db.session.commit()
    assert relay().recovered == 0
    assert outbox(case["number"])[0].status == "sending"


def test_the_same_message_given_to_three_workers_at_once_is_sent_once(dispatched, app,
                                                                       fake_twilio):
    app.config["OUTBOX_FAST_PATH"] = False
    case = dispatched()
    message_id = outbox(case["number"])[0].id
    fake_twilio.delay_next(seconds=0.5, path="Messages.json")
    results: list[str] = []

    def run() -> None:
        with app.app_context():
            results.append(deliver(message_id))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results.count("sent") == 1
    assert all(r.startswith("skipped") for r in results if r != "sent"), results
    assert len(fake_twilio.messages) == 1


def test_outbox_of_a_case_lists_each_message_with_channel_purpose_status_and_times(
        closed_case, app, api, tokens):
    case = closed_case()
    work(app)

    listing = api.get(f"/outbox?case={case['number']}", tokens.supervisor).get_json()
    assert listing["total"] == 4
    assert [(m["channel"], m["purpose"], m["status"]) for m in listing["items"]] == \
        [("sms", "notify", "sent")] * 3 + [("sms", "survey", "sent")]
    first = listing["items"][0]
    assert first["recipient"] == MOBILE and first["case"] == case["number"]
    assert first["created_at"].endswith("+08:00") and first["sent_at"].endswith("+08:00")
    # The handler of the department sees its case's messages; another department does not.
    assert api.get(f"/outbox?case={case['number']}", tokens.handler).status_code == 200
    assert api.get(f"/outbox?case={case['number']}", tokens.other_handler).status_code == 404
    assert api.get("/outbox", tokens.handler).status_code == 400
    surveys_only = api.get("/outbox?purpose=survey", tokens.operator).get_json()
    assert surveys_only["total"] == 1
    assert api.get("/outbox?status=lost", tokens.operator).status_code == 400


def test_sender_a_channel_registers_for_a_recipient_is_used_for_it(dispatched, app,
                                                                  fake_wechat, monkeypatch):
    from channels.senders import LogSender
    from hotline.wiring import wiring_of

    other_account = LogSender()  # stands in for the WeChat account this openid belongs to
    monkeypatch.setitem(wiring_of(app).providers, "sender", [
        lambda channel, to, redis: other_account if to == OPENID else None])
    case = dispatched(channel="wechat", citizen={"openid": OPENID})
    work(app)

    assert [m.to for m in other_account.sent] == [OPENID]
    assert fake_wechat.sent == []
    assert outbox(case["number"])[0].status == "sent"
