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
ratio (target: 1, the first as fast as the next), with the load average.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.wechat.simulator import Simulator
from hotline.embedded import EmbeddedRedis
from tests.fakeservers.wechat import FakeWeChat

TOKEN = "benchWxToken"
APPID = "wx0123456789abcdef"
SECRET = "fake-wechat-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"
MESSAGES = [
    "我家在威宁县迤那镇，低保申请交上去半年了还没有消息，想问问什么时候能批下来。",
    "我在毕节打工的工资被拖欠了四个月，老板一直说没钱，请帮忙协调。",
    "我们村的通组公路塌方了，车过不去，学生上学要绕很远，请尽快派人修。",
    "贵阳高新区的技改补贴已经公示三个月了还没有拨付到位，企业资金很紧张。",
    "镇上的农贸市场每天早上占道经营，学生上学要走到马路中间，太危险了。",
    "小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音让老人孩子都睡不着。",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict, tmp: str) -> str:
    """Migrate, seed, activate the shipped topic model, make an operator: its API token."""
    code = ("from hotline import create_app; from hotline.cli import upgrade_database;"
            "from hotline.seed import seed_demo; from hotline.identity import create_user;"
            "from routing.training import ensure_model;"
            "from hotline.extensions import db; from sqlalchemy import text;"
            "app = create_app(); ctx = app.app_context(); ctx.push();"
            "db.session.execute(text('DROP SCHEMA public CASCADE; CREATE SCHEMA public'))"
            " if db.engine.dialect.name == 'postgresql' else None; db.session.commit();"
            "upgrade_database(app); seed_demo(); ensure_model();"
            "_, token = create_user('bench-operator', 'operator', None); print(token)")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def start_web(env: dict, tmp: str) -> tuple[subprocess.Popen, int]:
    """gunicorn as `hotline run` starts it, one web worker; returns once the worker is forked
    and has had a moment to reach its accept loop — without a single request."""
    from hotline.cli import gunicorn_command

    port = free_port()
    proc = subprocess.Popen(gunicorn_command(f"127.0.0.1:{port}", 1), env=env, cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not children_of(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.05)
    time.sleep(0.5)
    return proc, port


def start_worker(env: dict, tmp: str, redis_url: str) -> subprocess.Popen:
    """`hotline worker`; returns once it has registered with Redis (ready to take jobs)."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "worker"], env=env, cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(w.state == "idle" for w in Worker.all(connection=connection)):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("hotline worker did not start")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def first_and_next(times: list[list[float]]) -> tuple[float, float]:
    """Per boot [first, next...]: the median first and the median of all the next ones (ms)."""
    return (statistics.median(t[0] for t in times) * 1000,
            statistics.median(x for t in times for x in t[1:]) * 1000)


def webhook_boot(env: dict, tmp: str, sim: Simulator, boot: int, count: int) -> list[float]:
    proc, port = start_web(env, tmp)
    url = f"http://127.0.0.1:{port}/channels/wechat"
    times = []
    try:
        for i in range(count):
            openid = f"oFirst{boot:04d}{i:018d}"
            req = sim.request(sim.text(openid, MESSAGES[i % len(MESSAGES)]), openid=openid)
            t0 = time.perf_counter()
            resp = requests.post(url + "?" + urlencode(req.query), data=req.body,
                                 headers={"Content-Type": "text/xml"}, timeout=60)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200 and resp.text == "success", resp.text
    finally:
        stop(proc)
    return times


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


def intake_boot(env: dict, tmp: str, token: str, boot: int, count: int) -> list[float]:
    proc, port = start_web(env, tmp)
    url = f"http://127.0.0.1:{port}/api/v1/cases"
    times = []
    try:
        for i in range(count):
            body = {"line": "fupin", "channel": "phone", "content": MESSAGES[i % len(MESSAGES)],
                    "citizen": {"phone": f"139{boot:04d}{i:04d}"}}
            t0 = time.perf_counter()
            resp = requests.post(url, json=body, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"})
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 201, resp.text
    finally:
        stop(proc)
    return times


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


def worker_boot(app, env: dict, tmp: str, sim: Simulator, boot: int,
                count: int) -> tuple[list[float], list[float]]:
    """(receipt → reply in the outbox, the job's own time) per message, in seconds."""
    from redis import Redis
    from sqlalchemy import select

    from hotline import inbox
    from hotline.extensions import db
    from hotline.models import InboxMessage, OutboxMessage

    proc = start_worker(env, tmp, app.config["REDIS_URL"])
    connection = Redis.from_url(app.config["REDIS_URL"])
    waits, own = [], []
    try:
        with app.app_context():
            for i in range(count):
                openid = f"oWork{boot:04d}{i:019d}"
                xml = sim.text(openid, MESSAGES[i % len(MESSAGES)])
                key = f"msg:default:bench-{boot}-{i}-{time.time_ns()}"
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
                waits.append((replied - received).total_seconds())
                own.append(job_time(connection, f"inbox-{message_id}"))
    finally:
        stop(proc)
    return waits, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--next", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", default="webhook,worker,intake")
    args = parser.parse_args()
    kinds = args.only.split(",")

    tmp = tempfile.mkdtemp(prefix="bench-first-")
    redis = EmbeddedRedis(Path(tmp) / "redis").start()
    wechat = FakeWeChat(appid=APPID, secret=SECRET).start()
    database = args.database_url or f"sqlite:///{tmp}/hotline.db"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({"DATABASE_URL": database, "HOTLINE_INSTANCE_PATH": tmp, "REDIS_URL": redis.url,
                "SECRET_KEY": "bench-secret", "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID,
                "WECHAT_SECRET": SECRET, "WECHAT_AES_KEY": AES_KEY,
                "WECHAT_API_BASE": wechat.api_base, "PYTHONPATH": str(ROOT)})
    sim = Simulator(TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe")
    results: dict[str, list[list[float]]] = {}
    loads = [os.getloadavg()[0]]
    try:
        token = prepare(env, tmp)
        os.environ.update(env)
        from hotline import create_app

        app = create_app()
        count = args.next + 1
        requests.get(wechat.url + "/", timeout=10)  # the client's own first use, not measured
        for boot in range(args.boots):
            if "webhook" in kinds:
                results.setdefault("webhook", []).append(
                    webhook_boot(env, tmp, sim, boot, count))
                set_aside_inbox(app)
            if "worker" in kinds:
                waits, own = worker_boot(app, env, tmp, sim, boot, count)
                results.setdefault("worker", []).append(waits)
                results.setdefault("worker job", []).append(own)
            if "intake" in kinds:
                results.setdefault("intake", []).append(intake_boot(env, tmp, token, boot, count))
            loads.append(os.getloadavg()[0])
    finally:
        wechat.stop()
        redis.stop()

    backend = "PostgreSQL" if database.startswith("postgres") else "SQLite WAL synchronous=FULL"
    print(f"first message of a fresh process against the next {args.next}, {args.boots} boots; "
          f"{backend}; {os.cpu_count()} CPUs, load average {min(loads):.1f}–{max(loads):.1f}")
    names = {
        "webhook": "WeChat webhook, fresh web worker (acknowledged)",
        "worker": "WeChat message, fresh RQ worker (receipt → reply in outbox)",
        "worker job": "  the same, the job's own time (RQ, in the child)",
        "intake": "POST /api/v1/cases, fresh web worker",
    }
    print(f"{'':62}{'first ms':>9}{'next ms':>9}{'first/next':>11}   first per boot (ms)")
    for kind, times in results.items():
        first, rest = first_and_next(times)
        boots = " ".join(f"{t[0] * 1000:.0f}" for t in times)
        print(f"{names[kind]:62}{first:9.1f}{rest:9.1f}{first / rest:10.1f}x   {boots}")


if __name__ == "__main__":
    main()
