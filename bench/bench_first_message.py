"""The first message a freshly started process handles against the next ones, on this machine.

    python bench/bench_first_message.py [--boots 5] [--next 10] [--database-url URL]
                                        [--only webhook,worker,intake]

Three kinds of fresh process, each started `--boots` times (the median of the boots is what
counts), as `hotline run` starts them (SQLite WAL synchronous=FULL in a new file, or a scratch
PostgreSQL database given by URL; a redis-server started here; the topic model trained on the
shipped messages active; a local server speaking WeChat's API takes the replies):

- webhook: gunicorn with `--preload` and one web worker; once the worker is forked (no request
  before, not even a health probe), a WeChat text message in safe mode (signed, AES-encrypted)
  is posted to `/channels/wechat`, then `--next` more: the time until each is acknowledged.
- worker: `hotline worker` (RQ's forking worker); once it has registered with Redis, a WeChat
  message is put in the inbox as the webhook puts it (its job queued at the commit), and the
  time until the worker has written the reply to the outbox is measured (the inbox row's
  receipt to the outbox row's creation, both stamped by the database rows), then `--next` more,
  one after the other; also the job's own time as RQ recorded it (in the forked child).
- intake: gunicorn as above; the first `POST /api/v1/cases` (routing in the request), then
  `--next` more.

Prints, per kind, the first one's median over the boots, the next ones' median, and their
ratio (target: 1, the first as fast as the next), with the load average. The client's wall
time moves with whatever else the machine runs; so each message is also timed on the server's
side, by what it cost the process that handled it (`cpu ms`: the web worker's CPU time from
the scheduler's count, read before the request and once the worker is back in its accept
loop; for the RQ worker, the CPU time of the job children it reaped meanwhile, in the kernel's
10 ms ticks: a rough figure, as it may count a reply's delivery or a periodic job), with the
minor page faults it took (`faults`: the copy-on-write copies of the pages it shares with the
process it was forked from among them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import requests
from _common import (
    CITIZEN_MESSAGES,
    Scratch,
    children_of,
    cpu_of,
    free_port,
    gunicorn,
    prepare_database,
    stop,
    wait_until_idle,
    wait_until_settled,
)

from channels.wechat.simulator import Simulator
from tests.fakeservers.wechat import FakeWeChat

TOKEN = "benchWxToken"
APPID = "wx0123456789abcdef"
SECRET = "fake-wechat-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"


class Handled(NamedTuple):
    """One message: the client's wall time (s), the server's CPU time (ms), its page faults."""

    wall: float
    cpu_ms: float
    faults: int


def start_web(scratch: Scratch) -> tuple:
    """gunicorn as `hotline run` starts it, one web worker; returns (process, port, the web
    worker's pid) once the worker has settled (hotline.gunicorn_conf) and sleeps in its accept
    loop — without a single request."""
    port = free_port()
    proc = gunicorn(port, scratch.env, scratch.folder, workers=1)
    deadline = time.monotonic() + 300
    while not children_of(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.05)
    worker = children_of(proc.pid)[0]
    wait_until_settled(worker)
    return proc, port, worker


def start_worker(scratch: Scratch) -> subprocess.Popen:
    """`hotline worker`; returns once it has registered with Redis (ready to take jobs)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(scratch.redis.url)
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "worker"], env=scratch.env,
                            cwd=scratch.folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(w.state == "idle" for w in Worker.all(connection=connection)):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("hotline worker did not start")
        time.sleep(0.05)
    return proc


def served_by(worker: int, url: str, status: int, **options) -> Handled:
    """A POST to `url` answered with `status`, timed by the client and, on the server's side,
    by what it cost `worker`."""
    before = cpu_of(worker)
    t0 = time.perf_counter()
    resp = requests.post(url, timeout=60, **options)
    wall = time.perf_counter() - t0
    assert resp.status_code == status, resp.text
    wait_until_idle(worker)
    used = cpu_of(worker) - before
    return Handled(wall, used.ns / 1e6, used.minor_faults)


def webhook_boot(scratch: Scratch, sim: Simulator, boot: int, count: int) -> list[Handled]:
    proc, port, worker = start_web(scratch)
    url = f"http://127.0.0.1:{port}/channels/wechat"
    handled = []
    try:
        for i in range(count):
            openid = f"oFirst{boot:04d}{i:018d}"
            req = sim.request(sim.text(openid, CITIZEN_MESSAGES[i % len(CITIZEN_MESSAGES)]),
                              openid=openid)
            handled.append(served_by(worker, url + "?" + urlencode(req.query), 200,
                                     data=req.body, headers={"Content-Type": "text/xml"}))
    finally:
        stop(proc)
    return handled


def set_aside_inbox(app) -> None:
    """The webhook boots' messages marked done and their jobs dropped: the worker boots measure
    their own messages, not a backlog left by the webhook's (no worker ran meanwhile)."""
    from redis import Redis
    from rq import Queue
    from sqlalchemy import update

    from hotline.extensions import db
    from hotline.models import InboxMessage
    from hotline.models.types import utcnow
    from hotline.queue import QUEUE_NAMES

    with app.app_context():
        db.session.execute(update(InboxMessage).where(InboxMessage.processed_at.is_(None))
                           .values(processed_at=utcnow()))
        db.session.commit()
    connection = Redis.from_url(app.config["REDIS_URL"])
    for name in QUEUE_NAMES:
        Queue(name, connection=connection).empty()


def intake_boot(scratch: Scratch, token: str, boot: int, count: int) -> list[Handled]:
    proc, port, worker = start_web(scratch)
    url = f"http://127.0.0.1:{port}/api/v1/cases"
    handled = []
    try:
        for i in range(count):
            body = {"line": "fupin", "channel": "phone",
                    "content": CITIZEN_MESSAGES[i % len(CITIZEN_MESSAGES)],
                    "citizen": {"phone": f"139{boot:04d}{i:04d}"}}
            handled.append(served_by(worker, url, 201, json=body,
                                     headers={"Authorization": f"Bearer {token}"}))
    finally:
        stop(proc)
    return handled


def job_time(connection, description: str) -> float:
    """The seconds RQ recorded for the finished job of this description (RQ notes the end
    just after the job's own commit: waited for)."""
    from rq import Queue
    from rq.job import Job

    from workers.relay import INBOX_QUEUE

    registry = Queue(INBOX_QUEUE, connection=connection).finished_job_registry
    for _ in range(200):
        for job in Job.fetch_many(registry.get_job_ids(), connection=connection):
            if job is not None and job.description == description and job.ended_at:
                return (job.ended_at - job.started_at).total_seconds()
        time.sleep(0.01)
    raise SystemExit(f"no finished job {description}")


def children_cpu(pid: int) -> tuple[float, int]:
    """The CPU time (ms, 10 ms ticks) and minor page faults of `pid`'s children that ended."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(stat[13]) + int(stat[14])
    return ticks * 1000 / os.sysconf("SC_CLK_TCK"), int(stat[8])


def worker_boot(app, scratch: Scratch, sim: Simulator, boot: int,
                count: int) -> tuple[list[Handled], list[Handled]]:
    """Per message: receipt → reply in the outbox, and the job's own time (RQ's record), each
    with the job child's CPU time and page faults."""
    from redis import Redis
    from sqlalchemy import select

    from hotline import inbox
    from hotline.extensions import db
    from hotline.models import InboxMessage, OutboxMessage

    proc = start_worker(scratch)
    connection = Redis.from_url(scratch.redis.url)
    waits, own = [], []
    try:
        with app.app_context():
            for i in range(count):
                openid = f"oWork{boot:04d}{i:019d}"
                xml = sim.text(openid, CITIZEN_MESSAGES[i % len(CITIZEN_MESSAGES)])
                key = f"msg:default:bench-{boot}-{i}-{time.time_ns()}"
                cpu_before, faults_before = children_cpu(proc.pid)
                message_id = inbox.receive("wechat", key, openid,
                                           {"account": "default", "xml": xml})
                deadline = time.monotonic() + 120
                while db.session.scalar(select(InboxMessage.processed_at)
                                        .where(InboxMessage.id == message_id)) is None:
                    db.session.rollback()
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the worker did not process the message")
                    time.sleep(0.01)
                received, replied = db.session.execute(
                    select(InboxMessage.received_at, OutboxMessage.created_at)
                    .join(OutboxMessage,
                          OutboxMessage.dedupe_key == "wechat-reply:" + InboxMessage.dedupe_key)
                    .where(InboxMessage.id == message_id)).one()
                db.session.rollback()
                took = job_time(connection, f"inbox-{message_id}")  # the child has ended
                cpu_after, faults_after = children_cpu(proc.pid)
                cpu, faults = cpu_after - cpu_before, faults_after - faults_before
                waits.append(Handled((replied - received).total_seconds(), cpu, faults))
                own.append(Handled(took, cpu, faults))
    finally:
        stop(proc)
    return waits, own


def medians(runs: list[list[Handled]]) -> dict[str, tuple[float, float]]:
    """Per measure, (the first's median over the boots, the median of all the next ones)."""
    def first_and_next(values: list[list[float]]) -> tuple[float, float]:
        return (statistics.median(v[0] for v in values),
                statistics.median(x for v in values for x in v[1:]))

    return {"wall": first_and_next([[h.wall * 1000 for h in run] for run in runs]),
            "cpu": first_and_next([[h.cpu_ms for h in run] for run in runs]),
            "faults": first_and_next([[h.faults for h in run] for run in runs])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--next", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="webhook,worker,intake")
    args = parser.parse_args()
    kinds = args.only.split(",")

    wechat = FakeWeChat(appid=APPID, secret=SECRET).start()
    scratch = Scratch.start("bench-first-", args.database_url, WECHAT_TOKEN=TOKEN,
                            WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, WECHAT_AES_KEY=AES_KEY,
                            WECHAT_API_BASE=wechat.api_base)
    sim = Simulator(TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe")
    results: dict[str, list[list[Handled]]] = {}
    loads = [os.getloadavg()[0]]
    try:
        # The shipped topic model active, and an operator: its API token.
        out = prepare_database(scratch, "from routing.training import ensure_model;"
                               "ensure_model(); _, token = create_user('bench-operator',"
                               "'operator', None); print(token)", empty_postgresql=True)
        token = out.strip().splitlines()[-1]
        os.environ.update(scratch.env)
        from hotline import create_app

        app = create_app()
        count = args.next + 1
        requests.get(wechat.url + "/", timeout=10)  # the client's own first use, not measured
        for boot in range(args.boots):
            if "webhook" in kinds:
                results.setdefault("webhook", []).append(
                    webhook_boot(scratch, sim, boot, count))
                set_aside_inbox(app)
            if "worker" in kinds:
                waits, own = worker_boot(app, scratch, sim, boot, count)
                results.setdefault("worker", []).append(waits)
                results.setdefault("worker job", []).append(own)
            if "intake" in kinds:
                results.setdefault("intake", []).append(
                    intake_boot(scratch, token, boot, count))
            loads.append(os.getloadavg()[0])
    finally:
        wechat.stop()
        scratch.stop()

    print(f"first message of a fresh process against the next {args.next}, {args.boots} boots; "
          f"{scratch.backend}; {os.cpu_count()} CPUs, load average "
          f"{min(loads):.1f}–{max(loads):.1f}")
    names = {
        "webhook": "WeChat webhook, fresh web worker (acknowledged)",
        "worker": "WeChat message, fresh RQ worker (receipt → reply in outbox)",
        "worker job": "  the same, the job's own time (RQ, in the child)",
        "intake": "POST /api/v1/cases, fresh web worker",
    }
    print(f"{'':60}{'wall ms':^23}{'cpu ms':^21}{'faults':^12}   first per boot")
    print(f"{'':60}{'first':>8}{'next':>8}{'ratio':>7}{'first':>7}{'next':>7}{'ratio':>7}"
          f"{'first':>6}{'next':>6}   (wall/cpu ms)")
    for kind, runs in results.items():
        m = medians(runs)
        (wf, wn), (cf, cn), (ff, fn) = m["wall"], m["cpu"], m["faults"]
        boots = " ".join(f"{run[0].wall * 1000:.0f}/{run[0].cpu_ms:.0f}" for run in runs)
        print(f"{names[kind]:60}{wf:8.1f}{wn:8.1f}{wf / wn:6.2f}x{cf:7.1f}{cn:7.1f}"
              f"{cf / cn if cn else float('nan'):6.2f}x{ff:6.0f}{fn:6.0f}   {boots}")


if __name__ == "__main__":
    main()
