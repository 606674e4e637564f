"""The WeChat webhook's latency under concurrent senders, against a trivial Flask endpoint
served the same way, in one run on this machine.

    python bench/bench_wechat.py [--senders 50] [--rounds 4] [--workers 4] [--threads 1]
                                 [--mode safe]

Both servers are gunicorn on loopback with the same workers (`hotline run`'s defaults:
`hotline.cli.WEB_WORKERS` sync workers; `--threads N` tries gthread workers), and both get the
same requests: per sender a subscribe, then rounds of a new case, a message added to it, a retry of that message
(same MsgId), `我的` and `新诉求` — each signed and, in safe mode, AES-encrypted by wechatpy's
crypto, built before the clock starts.
The webhook runs for real, as `hotline run` does: it stores each message in the inbox (SQLite
WAL, synchronous=FULL; one commit) and acknowledges it, while a real RQ worker (`hotline
worker`, on a redis-server started here) runs the conversation — intake with routing — on the
same machine at the same time and queues each reply for WeChat's customer-service API. The
trivial endpoint answers `success` without reading the body.

Prints p50/p99/max latency and throughput of both, their ratios, and the webhook's p99 as a
share of WeChat's 5-second budget; the database's raw rate of durable commits one after the
other (one small row INSERTed and COMMITted per call, one connection, before the load): each
webhook is one such commit, and 50 senders cannot be answered faster than 50 of them; then waits for the worker to finish, prints how long the
citizens waited for their replies (acknowledgement → reply queued) and checks that the run
made exactly one case per round and sender (retries made none) and one reply per message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from _common import (
    CITIZEN_MESSAGES,
    Scratch,
    percentile,
    prepare_database,
    raw_commits,
    served,
    stop,
)

from channels.wechat.simulator import Request, Simulator
from hotline.cli import WEB_WORKERS

TOKEN = "benchWxToken"
APPID = "wx0123456789abcdef"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"
WECHAT_BUDGET = 5.0

TRIVIAL_APP = '''
from flask import Flask

app = Flask(__name__)


@app.post("/channels/wechat")
def webhook():
    return "success"
'''


def script(sim: Simulator, sender: int, rounds: int) -> list[Request]:
    """One sender's requests, signed (and encrypted) in advance."""
    openid = f"oBench{sender:022d}"
    xmls = [sim.event(openid, "subscribe")]
    for r in range(rounds):
        xmls.append(sim.text(openid, CITIZEN_MESSAGES[(sender + r) % len(CITIZEN_MESSAGES)]))
        added = sim.text(openid, f"补充说明第{r + 1}条：村委会电话一直打不通。")
        xmls += [added, added]  # the second is WeChat's retry: same MsgId
        xmls.append(sim.text(openid, "我的"))
        xmls.append(sim.text(openid, "新诉求"))
    return [sim.request(x, openid=openid) for x in xmls]


async def post(port: int, request: Request) -> tuple[float, int]:
    """One request on its own connection (gunicorn's sync workers close each one)."""
    path = "/channels/wechat?" + urlencode(request.query)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(request.body)}\r\nConnection: close\r\n\r\n").encode()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + request.body)
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return elapsed, status


def load(port: int, scripts: list[list[Request]]) -> tuple[list[float], list[int], float]:
    """Every sender a task sending its requests one after the other (as one citizen would);
    one event loop, so that the load generator itself stays light."""
    latencies: list[float] = []
    statuses: list[int] = []

    async def sender(requests: list[Request]) -> None:
        for request in requests:
            elapsed, status = await post(port, request)
            latencies.append(elapsed)
            statuses.append(status)

    async def everyone() -> float:
        began = time.perf_counter()
        await asyncio.gather(*(sender(s) for s in scripts))
        return time.perf_counter() - began

    wall = asyncio.run(everyone())
    return latencies, statuses, wall


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"n": len(ordered), "p50": statistics.median(ordered) * 1000,
            "p99": percentile(ordered, 0.99) * 1000,
            "max": ordered[-1] * 1000, "rps": len(ordered) / wall}


def count_cases(env: dict, tmp: str) -> tuple[int, int]:
    code = ("from hotline import create_app; from hotline.extensions import db;"
            "from sqlalchemy import text; app = create_app(); ctx = app.app_context(); ctx.push();"
            "print(db.session.execute(text('select count(*) from cases')).scalar(),"
            "db.session.execute(text('select count(*) from wechat_inbound')).scalar())")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp, check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def drain(env: dict, tmp: str, timeout: float = 900) -> list[float]:
    """Wait until the worker has done every inbound message; the seconds each reply waited
    after its message was acknowledged (inbox commit → reply written to the outbox)."""
    code = """
import time
from sqlalchemy import select, func
from hotline import create_app
from hotline.extensions import db
from hotline.models import InboxMessage, OutboxMessage
app = create_app(); ctx = app.app_context(); ctx.push()
until = time.monotonic() + TIMEOUT
while db.session.scalar(select(func.count()).where(InboxMessage.processed_at.is_(None))) \
        and time.monotonic() < until:
    db.session.rollback(); time.sleep(0.5)
rows = db.session.execute(select(InboxMessage.received_at, OutboxMessage.created_at).join(
    OutboxMessage, OutboxMessage.dedupe_key == "wechat-reply:" + InboxMessage.dedupe_key))
print(" ".join(str((o - i).total_seconds()) for i, o in rows))
""".replace("TIMEOUT", str(timeout))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp, check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(x) for x in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=WEB_WORKERS,
                        help="web workers (default: as `hotline run`)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker, as `hotline run` (1: sync workers)")
    parser.add_argument("--mode", choices=["plain", "safe", "compatible"], default="safe")
    parser.add_argument("--database-url", default=None,
                        help="e.g. a scratch PostgreSQL database (migrated and seeded here); "
                             "default: a new SQLite file")
    args = parser.parse_args()

    scratch = Scratch.start("bench-wechat-", args.database_url, WECHAT_TOKEN=TOKEN,
                            WECHAT_APPID=APPID)
    env, tmp = scratch.env, scratch.folder
    if args.mode != "plain":
        env["WECHAT_AES_KEY"] = AES_KEY
    prepare_database(scratch, empty_postgresql=True)
    cases_before, inbound_before = count_cases(env, tmp)
    Path(tmp, "trivial.py").write_text(TRIVIAL_APP)

    sim = Simulator(TOKEN, appid=APPID, aes_key=AES_KEY if args.mode != "plain" else None,
                    mode=args.mode)
    warm_sim = Simulator(TOKEN, appid=APPID, aes_key=AES_KEY if args.mode != "plain" else None,
                         mode=args.mode)
    # Warm-up: every worker loads the routing dictionaries on its first case.
    warmup = [script(warm_sim, 10_000 + i, 1) for i in range(args.workers * 4)]
    scripts = [script(sim, i, args.rounds) for i in range(args.senders)]

    raw_rate, raw_latencies = raw_commits(scratch.database, 3.0)
    results = {}
    worker = subprocess.Popen([sys.executable, "-m", "hotline.cli", "worker"], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for name, app, health in (("trivial Flask endpoint", "trivial:app", None),
                                  ("WeChat webhook", None, "/healthz")):
            with served(env, tmp, workers=args.workers, threads=args.threads, app=app,
                        health=health or "/") as server:
                if health:
                    load(server.port, warmup)
                latencies, statuses, wall = load(server.port, scripts)
            bad = [s for s in statuses if s != 200]
            if bad:
                raise SystemExit(f"{name}: {len(bad)} requests failed (HTTP {sorted(set(bad))})")
            results[name] = summary(latencies, wall)
        print(f"WeChat webhook, {args.senders} concurrent senders, {args.mode} mode; gunicorn "
              f"{args.workers} workers × {args.threads} threads on loopback; {scratch.backend}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
        print(f"{'':24}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>9}")
        for name, r in results.items():
            print(f"{name:24}{r['n']:>9}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['max']:>9.1f}"
                  f"{r['rps']:>9.0f}")
        base, hook = results["trivial Flask endpoint"], results["WeChat webhook"]
        print(f"ratio webhook/trivial: p50 {hook['p50'] / base['p50']:.1f}x, "
              f"p99 {hook['p99'] / base['p99']:.1f}x, throughput {hook['rps'] / base['rps']:.2f}x")
        print(f"raw durable commit, one connection: {raw_rate:.0f}/s, median "
              f"{statistics.median(raw_latencies) * 1000:.1f} ms; {args.senders} such commits one "
              f"after the other: {args.senders / raw_rate * 1000:.0f} ms")
        share = hook["p99"] / 1000 / WECHAT_BUDGET
        print(f"webhook p99 = {share:.1%} of WeChat's {WECHAT_BUDGET:.0f} s budget: "
              + ("OK" if share < 0.2 else "TOO SLOW"))
        sys.stdout.flush()
        waits = sorted(drain(env, tmp))
    finally:
        stop(worker)
        scratch.redis.stop()

    if waits:
        print(f"replies queued by the worker {len(waits)}: wait after the acknowledgement p50 "
              f"{statistics.median(waits):.1f} s, p99 {percentile(waits, 0.99):.1f} s,"
              f" max {waits[-1]:.1f} s (the worker shares the 2 cores with the load)")
    cases, inbound = count_cases(env, tmp)
    cases, inbound = cases - cases_before, inbound - inbound_before
    expected = args.senders * args.rounds + len(warmup)
    print(f"cases made: {cases} (expected {expected}); messages done: {inbound} "
          f"(retries refused by the inbox: {args.senders * args.rounds})")
    shutil.rmtree(scratch.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
