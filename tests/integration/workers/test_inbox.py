"""Webhooks answer from the fast path: WeChat and Twilio get their acknowledgement as soon as
the message is committed to the inbox, a real RQ worker does the rest, and the citizen's reply
(with the case number) goes out through the outbox — whether the worker was up, down, or
Redis itself was down when the message came."""

from __future__ import annotations

import fcntl
import os
import re

import pytest
from rq import Queue
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from channels.wechat.simulator import Simulator
from hotline import inbox
from hotline.extensions import db
from hotline.models import Case, InboxMessage, SmsMessage
from hotline.wiring import wiring_of

from .conftest import PUBLIC, relay_and_work, work

TOKEN = "inboxWxToken2026"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"
OPENID = "oInboxCitizen00000000000001"
FUPIN = "+8685186833668"
TEXTER = "+8613985017777"
COMPLAINT = "我在毕节打工的工资被拖欠了四个月，老板一直说没钱，家里孩子等着交学费。"


@pytest.fixture
def config_overrides(fake_wechat) -> dict:
    return {"WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY, "WECHAT_LINE": "fupin",
            "INBOX_RELAY_LEASE_SECONDS": 0, "OUTBOX_RELAY_GRACE_SECONDS": 0}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def post_wechat(app, sim: Simulator, xml: str):
    request = sim.request(xml, openid=OPENID)
    return app.test_client().post("/channels/wechat", query_string=request.query,
                                  data=request.body, content_type="text/xml")


def post_sms(app, sid: str, body: str):
    params = {"MessageSid": sid, "SmsSid": sid, "From": TEXTER, "To": FUPIN, "Body": body,
              "NumMedia": "0"}
    token = app.config["TWILIO_AUTH_TOKEN"]
    signature = RequestValidator(token).compute_signature(PUBLIC + "/channels/twilio/sms",
                                                          params)
    return app.test_client().post("/channels/twilio/sms", data=params,
                                  headers={"X-Twilio-Signature": signature})


def case_number(text: str) -> str:
    match = re.search(r"FP\d{8}-\d{4}", text)
    assert match, text
    return match.group(0)


def test_wechat_message_acknowledged_while_the_worker_is_down_is_answered_once_it_is_back(
        app, fake_wechat):
    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    xml = sim.text(OPENID, COMPLAINT)
    # No worker runs: WeChat is answered at once, and retries the same MsgId twice.
    for _ in range(3):
        resp = post_wechat(app, sim, xml)
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "success")
    assert (count(InboxMessage), count(Case)) == (1, 0)

    work(app)  # the worker comes back: the message, then its reply, each once

    assert count(Case) == 1
    number = db.session.scalar(select(Case.number))
    [reply] = fake_wechat.sent_to(OPENID)
    assert reply["kind"] == "custom" and number in reply["text"]["content"]
    assert "工单号" in reply["text"]["content"]
    work(app)
    relay_and_work(app)
    assert count(Case) == 1 and len(fake_wechat.sent_to(OPENID)) == 1


def test_wechat_messages_of_one_citizen_are_done_in_the_order_they_came(app, fake_wechat):
    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    for text in (COMPLAINT, "补充：老板的电话一直打不通。", "我的"):
        assert post_wechat(app, sim, sim.text(OPENID, text)).status_code == 200
    work(app)
    case = db.session.scalar(select(Case))
    assert "老板的电话一直打不通" in case.content  # the second message added to the first's case
    texts = [m["text"]["content"] for m in fake_wechat.sent_to(OPENID)]
    assert len(texts) == 3 and case.number in texts[0] and case.number in texts[1]
    assert "您最近的工单" in texts[2] and case.number in texts[2]


def test_the_next_webhook_may_write_while_one_queues_its_message_on_redis(app, fake_wechat):
    """On SQLite the writers of inbound messages queue on a file lock: a webhook lets go of
    it at its commit, not after the fast path has talked to Redis (which runs after)."""
    with app.app_context():
        path = inbox._lock_path()
    if path is None:
        pytest.skip("PostgreSQL: no file lock")
    free_after_commit: list[bool] = []

    def try_the_lock(session) -> None:  # after the wiring's listeners, as a next writer would
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            free_after_commit.append(True)
        except BlockingIOError:
            free_after_commit.append(False)
        finally:
            os.close(fd)

    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    event.listen(Session, "after_commit", try_the_lock)
    try:
        assert post_wechat(app, sim, sim.text(OPENID, COMPLAINT)).status_code == 200
    finally:
        event.remove(Session, "after_commit", try_the_lock)
    assert free_after_commit == [True]


def test_sms_acknowledged_while_redis_is_down_becomes_one_case_and_its_sms_after(
        app, redis_server, fake_twilio):
    with redis_server.down():
        for _ in range(2):  # Twilio's retry of the same MessageSid
            resp = post_sms(app, "SM" + "7" * 32, COMPLAINT)
            assert resp.status_code == 200 and "<Message>" not in resp.get_data(as_text=True)
    assert (count(InboxMessage), count(Case), count(SmsMessage)) == (1, 0, 0)

    relay_and_work(app)  # Redis is back: the relay finds the message the fast path missed

    assert (count(Case), count(SmsMessage)) == (1, 1)
    number = db.session.scalar(select(Case.number))
    [ack] = fake_twilio.messages
    assert (ack["to"], ack["from"]) == (TEXTER, FUPIN)
    assert case_number(ack["body"]) == number
    relay_and_work(app)
    assert count(Case) == 1 and len(fake_twilio.messages) == 1


def test_a_status_query_by_sms_is_answered_through_the_outbox(app, fake_twilio):
    post_sms(app, "SM" + "8" * 32, COMPLAINT)
    work(app)
    number = db.session.scalar(select(Case.number))
    post_sms(app, "SM" + "9" * 32, f"查询 {number}")
    work(app)
    status = fake_twilio.messages[-1]
    assert status["to"] == TEXTER and f"工单 {number}" in status["body"]


def test_a_burst_of_webhooks_is_one_job_that_answers_every_citizen_once(app, fake_wechat,
                                                                          redis_client):
    """While a job waits on the inbox queue, the next webhooks queue none: that job does their
    messages too (a job costs a forked process; a message a few milliseconds), and its
    replies go out the same way, each once."""
    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    citizens = [f"oBurstCitizen{i:015d}" for i in range(4)]
    for openid in citizens:
        request = sim.request(sim.text(openid, COMPLAINT), openid=openid)
        resp = app.test_client().post("/channels/wechat", query_string=request.query,
                                      data=request.body, content_type="text/xml")
        assert resp.status_code == 200
    assert Queue("inbox", connection=redis_client).count == 1

    work(app)

    assert count(Case) == 4
    for openid in citizens:
        [reply] = fake_wechat.sent_to(openid)
        assert "工单号" in reply["text"]["content"]
    relay_and_work(app)
    assert sum(len(fake_wechat.sent_to(openid)) for openid in citizens) == 4


def test_a_message_failing_in_a_jobs_batch_holds_up_only_its_own_citizen(app, fake_wechat,
                                                                           monkeypatch):
    """A message that fails while a job does the messages waiting is kept as failed (its
    attempt counted, its error noted) and its citizen's next message waits behind it; the
    other citizens are answered. Once it succeeds, the citizen's messages follow in order."""
    from channels.wechat import conversation

    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    unlucky, other = "oUnluckyCitizen00000000000001", "oOtherCitizen0000000000000001"
    original = conversation.from_inbox
    failing = {"on": True}

    def from_inbox(item):
        if failing["on"] and item.sender == unlucky:
            raise RuntimeError("数据库暂时不可用")
        return original(item)

    monkeypatch.setitem(wiring_of(app).inbox, "wechat", from_inbox)
    for openid, text in ((other, "我的"), (unlucky, COMPLAINT), (unlucky, "补充：电话打不通。"),
                         (other, COMPLAINT)):
        request = sim.request(sim.text(openid, text), openid=openid)
        assert app.test_client().post("/channels/wechat", query_string=request.query,
                                      data=request.body,
                                      content_type="text/xml").status_code == 200
    ids = list(db.session.scalars(select(InboxMessage.id).order_by(InboxMessage.id)))

    assert inbox.process(ids[0]) == "processed"
    assert inbox.process_waiting() is None

    db.session.expire_all()
    rows = {row.id: row for row in db.session.scalars(select(InboxMessage))}
    assert (rows[ids[1]].attempts, rows[ids[1]].processed_at) == (1, None)
    assert "数据库暂时不可用" in rows[ids[1]].last_error
    assert (rows[ids[2]].attempts, rows[ids[2]].processed_at) == (0, None)  # behind it
    assert rows[ids[3]].processed_at is not None  # the other citizen's case

    failing["on"] = False
    relay_and_work(app)  # the relay asks again for the failed one: it, then the next
    case = db.session.scalar(select(Case).where(Case.citizen_openid == unlucky))
    assert "电话打不通" in case.content


def test_on_sqlite_a_worker_lets_a_waiting_webhook_write_between_two_messages(
        app, fake_wechat, monkeypatch):
    """A webhook's provider waits for its answer; a worker's citizen already has it. While a
    webhook waits for the writers' lock (here: says so on its file, as `receive` does), a
    worker doing the messages waiting commits after each one, so that the webhook gets in
    between; with no webhook waiting it does them in one transaction."""
    with app.app_context():
        path = inbox._lock_path()
    if path is None:
        pytest.skip("PostgreSQL: no file lock")
    monkeypatch.setattr(inbox, "WEBHOOKS_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(inbox, "BATCH_HOLD_SECONDS", 60)  # however slow the machine is
    sim = Simulator(TOKEN, appid=app.config["WECHAT_APPID"], aes_key=AES_KEY, mode="safe")
    commits: list[int] = []

    def count_commit(session) -> None:
        if not session.in_nested_transaction():  # a savepoint's release is announced too
            commits.append(1)

    def store_messages(first: int) -> None:
        for i in range(first, first + 3):
            openid = f"oWaitingCitizen{i:013d}"
            request = sim.request(sim.text(openid, "我的"), openid=openid)
            assert app.test_client().post("/channels/wechat", query_string=request.query,
                                          data=request.body,
                                          content_type="text/xml").status_code == 200

    event.listen(Session, "after_commit", count_commit)
    try:
        store_messages(0)
        commits.clear()
        assert inbox.process_waiting() is None
        alone = len(commits)

        store_messages(3)
        commits.clear()
        fd = os.open(path + "-webhooks", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # a webhook waiting for the lock
            assert inbox.process_waiting() is None
        finally:
            os.close(fd)
        with_a_webhook = len(commits)
    finally:
        event.remove(Session, "after_commit", count_commit)
    assert (alone, with_a_webhook) == (1, 3)
    assert count(InboxMessage) == 6
    assert db.session.scalar(select(func.count()).where(InboxMessage.processed_at.is_(None))) == 0
