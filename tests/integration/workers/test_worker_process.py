"""Real `hotline worker` processes: one of two SIGKILLed in the middle of a send, nothing is sent
twice and nothing is lost; a worker running through a Redis outage sends what waited once
Redis is back; a topic model retrained while a worker runs routes its next message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from channels.wechat.simulator import Simulator
from hotline import inbox
from hotline.extensions import db
from hotline.models import Case, OutboxMessage
from hotline.queue import QUEUE_NAMES
from tests.conftest import activate_topic_model

from .conftest import OPENID, PUBLIC

pytestmark = pytest.mark.slow

CITIZENS = [("王建国", "13985012345"), ("陈红", "13708512222"), ("杨光明", "18685100333")]


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {statuses()}"
        time.sleep(0.1)


def statuses() -> dict[int, str]:
    db.session.rollback()  # a fresh read: the worker process writes these rows
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all()
    db.session.rollback()
    return dict(rows)


def descendants(pid: int) -> list[int]:
    """The processes started by `pid` (RQ's work horses put themselves in their own process
    group, so killing the worker's group is not enough)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and everything it started, as a crash or an OOM kill would."""
    for pid in [process.pid, *descendants(process.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(10)


def of_session(leader: int) -> list[int]:
    """The processes of the session `leader` leads: a worker the test started (in a session of
    its own) and everything it started, its work horses included, whether or not their parent
    is still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # after the command's name: state, ppid, pgrp, session, ...
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == leader:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


#: Seconds a worker the test is done with gets to stop on SIGTERM. RQ's warm shutdown waits
#: for the job at hand (a bulletin the schedule queued, say): the test does not.
STOP_GRACE = 2.0


def stop(process: subprocess.Popen) -> None:
    """End a worker the test started: SIGTERM, then SIGKILL to its session after
    `STOP_GRACE` (it waited up to 15 s before, on a job the test never asked for)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            pass
    for pid in of_session(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process.poll() is None:
        process.wait(10)


@pytest.fixture
def start_worker(app, fake_twilio, fake_wechat, tmp_path) -> Iterator[Callable[[], subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "HOTLINE_INSTANCE_PATH": app.instance_path,
        "PUBLIC_BASE_URL": PUBLIC,
        **fake_twilio.config(),
        **fake_wechat.config(),
        "WECHAT_TEMPLATE_ID": "TM-case-progress",
        "SENDER_TIMEOUT": "15",
        "RELAY_INTERVAL": "1",
        "OUTBOX_SENDING_LEASE_SECONDS": str(LEASE),
        "OUTBOX_RELAY_GRACE_SECONDS": "1",
        "OUTBOX_BACKOFF_SECONDS": "0",
        # The killed worker's scheduler held the lease: the next one takes over after this.
        "CRON_LEASE_SECONDS": "3",
    }

    def start(**more_env: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - kept open
        process = subprocess.Popen([sys.executable, "-m", "hotline.cli", "worker"],
                                   env={**env, **more_env},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)
    for log in sorted(tmp_path.glob("worker-*.log")):  # shown by pytest when a test fails
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-6000:]}")


#: What a worker's log says once it has started: its RQ worker listening, the periodic jobs'
#: scheduler enqueuing and RQ's scheduler started.
START_UP_DONE = ("Listening on", "now enqueues the periodic jobs", "Scheduler for")


def running(process: subprocess.Popen, log: Path, redis_url: str) -> subprocess.Popen:
    """`process`, once its log says it has started (`START_UP_DONE`) and it has done the jobs
    its scheduler queues as it starts (the first round of the periodic jobs), so that they do
    not hold up the test's."""
    return all_running({process: log}, redis_url)[0]


def all_running(logs: dict[subprocess.Popen, Path], redis_url: str) -> list[subprocess.Popen]:
    """The workers of `logs` (each with its log), once each says it listens and one of them
    that it leads the schedulers (the rest of `START_UP_DONE`: one worker's periodic jobs'
    scheduler and RQ's hold the leases), and the jobs queued as they start are done."""
    def started() -> bool:
        texts = []
        for process, log in logs.items():
            assert process.poll() is None, f"a worker exited: {log.read_text(errors='replace')}"
            texts.append(log.read_text(errors="replace"))
        return all(START_UP_DONE[0] in text for text in texts) and \
            all(mark in "".join(texts) for mark in START_UP_DONE)

    wait_until(started, what="the workers' start-up")
    with Redis.from_url(redis_url) as connection:
        queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]

        def idle() -> bool:
            return not any(q.count or StartedJobRegistry(queue=q).count for q in queues)

        def idle_twice() -> bool:  # not merely between a job taken and its start recorded
            if not idle():
                return False
            time.sleep(0.3)
            return idle()

        wait_until(idle_twice, what="the workers' first jobs")
    return list(logs)


@pytest.fixture
def worker(start_worker, tmp_path, redis_url) -> subprocess.Popen:
    """A worker that has started, before the test begins: a test times what the worker does,
    its start (seconds of CPU: the app, jieba's dictionary, its first jobs) is the fixture's."""
    return running(start_worker(), tmp_path / "worker-0.log", redis_url)


@pytest.fixture
def two_workers(start_worker, tmp_path, redis_url) -> list[subprocess.Popen]:
    """Two workers on the same queues, as a centre may run them, both started before the test
    begins (side by side: each start is seconds of CPU)."""
    first, second = start_worker(), start_worker()
    return all_running({first: tmp_path / "worker-0.log", second: tmp_path / "worker-1.log"},
                       redis_url)


@pytest.fixture
def json_logging_worker(start_worker, tmp_path, redis_url) -> subprocess.Popen:
    """A worker that has started, logging JSON lines (relaying every second)."""
    return running(start_worker(HOTLINE_LOG_FORMAT="json"), tmp_path / "worker-0.log",
                   redis_url)


def sending_worker(workers: list[subprocess.Popen], message_id: int,
                   redis_url: str) -> subprocess.Popen:
    """Which of `workers` is sending outbox row `message_id` (its job's work horse is)."""
    with Redis.from_url(redis_url) as connection:
        for found in Worker.all(connection=connection):
            job = found.get_current_job()
            if job is not None and job.args == (message_id,):
                return next(w for w in workers if w.pid == found.pid)
    raise AssertionError(f"no worker is sending outbox row {message_id}")


#: The provider's stall on the first message, and the sending lease after which a row still
#: "sending" is taken back (the workers' OUTBOX_SENDING_LEASE_SECONDS): the kill falls in the
#: stall, and the stall ends well before the lease does.
STALL, LEASE = 1.5, 3


@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_worker_killed_mid_send_leaves_nothing_sent_twice_and_nothing_lost(
        channel, new_case, step, app, two_workers, fake_twilio, fake_wechat, redis_url):
    # Two workers are running: each message is queued as its step commits, and the first one
    # sent is cut off by the kill below (of the worker sending it) while its provider takes it.
    if channel == "sms":
        fake_twilio.delay_next(seconds=STALL, path="Messages.json")
        stalled_requests = lambda: fake_twilio.requests_to("Messages.json", "POST")
    else:
        fake_wechat.delay_next(seconds=STALL, path="message/custom")
        stalled_requests = lambda: fake_wechat.requests_to("message/custom", "POST")
    first = new_case(channel="wechat", citizen={"openid": OPENID}) if channel == "wechat" \
        else new_case()
    step(first["number"], "dispatch", {"department": "gz-hrss"})
    for name, phone in CITIZENS[1:]:
        case = new_case(citizen={"name": name, "phone": phone})
        step(case["number"], "dispatch", {"department": "gz-hrss"})

    # The other worker may send the other messages meanwhile: the stalled request is the first.
    wait_until(lambda: len(stalled_requests()) >= 1, what="the first send")
    stalled = stalled_requests()[0]
    to = stalled.form["To"] if channel == "sms" else stalled.json["touser"]
    db.session.rollback()
    [stalled_id] = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "sending", OutboxMessage.recipient.in_([to, to[-11:]]))).all()
    killed = sending_worker(two_workers, stalled_id, redis_url)
    kill_hard(killed)
    # The other worker goes on (and takes over the schedulers if the killed one led them);
    # the cut-off attempt is taken back only when its lease is over, after what follows.
    # The provider finishes what it was given although nobody waits for the answer any more.
    if channel == "sms":
        wait_until(lambda: any(m["to"] == to for m in fake_twilio.messages),
                   what="Twilio to finish")
    else:
        wait_until(lambda: len(fake_wechat.sent) == 1, what="WeChat to finish")
    assert statuses()[stalled_id] == "sending"

    settled = "sent" if channel == "sms" else "unknown"
    wait_until(lambda: statuses() == {stalled_id: settled, **{i: "sent" for i in statuses()
                                                               if i != stalled_id}},
               what="every message to settle")
    time.sleep(2)  # a few more relay rounds: still nothing goes out twice

    assert [w.poll() for w in two_workers if w is not killed] == [None]
    sms = [(m["to"], m["body"]) for m in fake_twilio.messages]
    assert len(sms) == len(set(sms)) == (3 if channel == "sms" else 2)
    assert len(fake_wechat.sent) == (1 if channel == "wechat" else 0)
    # One request per message: the one cut off was not made again.
    assert len(stalled_requests()) == (3 if channel == "sms" else 1)
    row = db.session.get(OutboxMessage, stalled_id)
    if channel == "sms":  # the message Twilio took while nobody waited
        [taken] = [m for m in fake_twilio.messages if m["to"] == to]
        assert row.provider_id == taken["sid"]
    else:
        assert row.last_error.startswith("发送状态未知")


def test_running_worker_rides_out_a_redis_outage_and_then_sends_what_waited(
        new_case, step, app, worker, redis_server, fake_twilio):
    case = new_case()
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    wait_until(lambda: len(fake_twilio.messages) == 1, what="the first SMS")

    with redis_server.down():
        for name, phone in CITIZENS[1:]:
            case = new_case(citizen={"name": name, "phone": phone})
            step(case["number"], "dispatch", {"department": "gz-hrss"})
        time.sleep(2)  # the worker and its scheduler meet the outage

    wait_until(lambda: set(statuses().values()) == {"sent"} and len(fake_twilio.messages) >= 3,
               what="the messages that waited")
    time.sleep(2)
    assert sorted(m["to"] for m in fake_twilio.messages) == \
        sorted("+86" + phone for _, phone in CITIZENS)


def test_idle_worker_logs_json_and_nothing_at_info_until_it_sends_a_message(
        new_case, step, app, json_logging_worker, fake_twilio, tmp_path):
    log = tmp_path / "worker-0.log"

    def lines() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()]  # each one parses

    # Start-up ended (the fixture waited for it) with the worker listening, the periodic jobs'
    # scheduler enqueuing and RQ's scheduler started, each said in a JSON line's message;
    # what follows is the idle worker.
    assert all(any(mark in line["message"] for line in lines()) for mark in START_UP_DONE)
    started = len(lines())
    time.sleep(4)  # four relay passes (and RQ's own lines for each) with nothing to send
    idle = [line for line in lines()[started:] if line["logger"].startswith(("rq.", "workers."))]
    assert idle == []

    case = new_case()
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    wait_until(lambda: len(fake_twilio.messages) == 1, what="the SMS")
    wait_until(lambda: any(line["logger"] == "workers.relay" for line in lines()),
               what="the line of the message sent")
    time.sleep(2)  # more relay passes

    told = [line for line in lines()[started:]
            if line["logger"].startswith(("rq.", "workers.", "channels."))]
    assert [(t["logger"], t["outcome"], t["case"], t["channel"]) for t in told] == \
        [("workers.relay", "sent", case["number"], "sms")], told
    assert told[0]["process"] == "worker" and told[0]["request_id"]
    assert "13985012345" not in log.read_text()


def test_a_running_worker_routes_with_a_topic_model_retrained_while_it_runs(
        app, start_worker, small_topic_model):
    """The worker loads the model as it starts and forks each job's child from itself: a model
    activated since must still reach the next message's child, without a restart."""
    token = "workerWxToken"
    first = activate_topic_model(small_topic_model)
    start_worker(WECHAT_TOKEN=token)

    def routed_with(n: int) -> int:
        openid = f"oRetrained{n:019d}"
        xml = Simulator(token).text(openid, "小区物业乱收费，楼顶漏水半年了也不给维修。")
        inbox.receive("wechat", f"msg:default:retrained-{n}", openid,
                      {"account": "default", "xml": xml})

        def case() -> Case | None:
            db.session.rollback()
            return db.session.scalar(select(Case).where(Case.citizen_openid == openid))

        wait_until(lambda: case() is not None, timeout=180, what=f"the case of message {n}")
        return case().routing["topic_model"]

    assert routed_with(1) == first
    second = activate_topic_model(small_topic_model)  # retrained: a new model, now active
    assert routed_with(2) == second
    activate_topic_model(small_topic_model)
    assert routed_with(3) not in (first, second)

