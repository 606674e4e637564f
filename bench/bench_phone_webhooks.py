"""How fast the phone channel answers Twilio, under load, against this machine's own limits.

    python bench/bench_phone_webhooks.py [SECONDS_PER_RUN] [CLIENT_THREADS]

Starts gunicorn (sync workers, as many as `hotline run`) on a fresh SQLite file (WAL,
synchronous=FULL), with a redis-server and a `hotline worker` beside it as `hotline run` has,
and drives it with signed Twilio requests from client threads:

- baseline: GET /healthz (no database) — the server's raw request rate;
- raw write: one SQLAlchemy ORM insert + commit per call, in this process (no HTTP) — the
  database's raw rate for one durable row;
- voice: POST /channels/twilio/voice for a new call each time (signature check, line lookup,
  hours, one row committed, TwiML);
- hang-up: the queue's "hangup" result for those calls (a missed-call task per caller);
- sms: POST /channels/twilio/sms, each a new case: stored in the inbox and answered with
  empty TwiML; the worker makes the case (routing) and its acknowledgement SMS meanwhile, on
  the same cores.

Prints requests/s, median and 99th-percentile latency of each, and the ratios to the baseline
and to the raw write. Twilio waits 15 s for an answer; the point is to stay far below it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from _common import ROOT, drive, free_port, gunicorn, percentile, stop, wait_until_up
from twilio.request_validator import RequestValidator

from hotline import create_app
from hotline.cli import WEB_WORKERS, upgrade_database
from hotline.embedded import EmbeddedRedis
from hotline.extensions import db
from hotline.seed import seed_demo

TOKEN = "bench-twilio-auth-token"
FUPIN = "+8685186833668"
TEXTS = [
    "我是威宁县迤那镇的村民，危房改造补助申请半年了还没有下来，请帮忙问一下。",
    "易地扶贫搬迁安置点的孩子转学手续怎么办理？",
    "村里的产业扶贫项目资金去向不明，希望有关部门核查。",
    "小额信贷贴息到期后还能不能续贷？",
]


def raw_write_rate(app, seconds: float) -> float:
    """ORM insert + commit of one small row, as fast as one process can: the durable-write
    limit every webhook that stores something sits on."""
    from hotline.models import CaseCounter

    with app.app_context():
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            db.session.add(CaseCounter(key=f"B{n:030d}", value=n))
            db.session.commit()
            n += 1
        return n / (time.perf_counter() - started)


class Load:
    """Signed Twilio requests to the server at `base`, which Twilio knows as `public`, from
    `threads` client threads."""

    def __init__(self, base: str, public: str, threads: int) -> None:
        self.base, self.public, self.threads = base, public, threads
        self.validator = RequestValidator(TOKEN)

    def signed(self, session: requests.Session, path: str, params: dict) -> requests.Response:
        signature = self.validator.compute_signature(self.public + path, params)
        return session.post(self.base + path, data=params,
                            headers={"X-Twilio-Signature": signature}, timeout=30)

    def run(self, seconds: float, make) -> tuple[float, list[float], int]:
        """Drive `make(session, i)` from all threads for `seconds`; (rate, latencies, errors)."""
        return drive(seconds, self.threads, make, ok=(200,))


def call_params(sid: str, **extra: str) -> dict:
    return {"CallSid": sid, "From": f"+86139{int(sid[-8:], 16) % 10**8:08d}", "To": FUPIN,
            "CallStatus": "ringing", "Direction": "inbound", **extra}


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    tmp = tempfile.mkdtemp(prefix="bench-phone-")
    url = f"sqlite:///{tmp}/bench.db"
    config = {"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench"}
    app = create_app(config)
    upgrade_database(app)
    with app.app_context():
        seed_demo()
    raw = raw_write_rate(app, seconds / 2)

    port = free_port()
    public = "https://12345.guizhou.gov.cn"
    redis = EmbeddedRedis(Path(tmp) / "redis").start()
    env = {**os.environ, "DATABASE_URL": url, "HOTLINE_INSTANCE_PATH": tmp,
           "SECRET_KEY": "bench", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": public,
           "REDIS_URL": redis.url}
    worker = subprocess.Popen([sys.executable, "-m", "hotline.cli", "worker"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = gunicorn(port, env, ROOT, workers=WEB_WORKERS)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(port, server)
        load = Load(base, public, threads)
        sids: list[str] = []

        def voice(session, i):
            sid = "CA" + uuid.uuid4().hex
            sids.append(sid)
            return load.signed(session, "/channels/twilio/voice", call_params(sid))

        def hangup(session, i):
            sid = sids[i % len(sids)]
            return load.signed(session, "/channels/twilio/queue-result",
                               call_params(sid, QueueResult="hangup", QueueTime="35"))

        def sms(session, i):
            return load.signed(session, "/channels/twilio/sms",
                               {"MessageSid": "SM" + uuid.uuid4().hex,
                                "From": f"+86137{i:08d}", "To": FUPIN,
                                "Body": TEXTS[i % len(TEXTS)]})

        # Each gunicorn worker loads routing's dictionaries on its first case: not measured.
        load.run(3, lambda s, i: load.signed(s, "/channels/twilio/sms", {
            "MessageSid": "SM" + uuid.uuid4().hex, "From": "+8613900000000", "To": FUPIN,
            "Body": TEXTS[0]}))
        runs = [("baseline GET /healthz", lambda s, i: s.get(base + "/healthz", timeout=30)),
                ("voice: new call", voice), ("queue hang-up: call-back task", hangup),
                ("sms: new case + ack", sms)]
        results = {name: load.run(seconds, make) for name, make in runs}
    finally:
        stop(server)
        stop(worker, within=30)
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    base_rate = results["baseline GET /healthz"][0]
    print(f"machine: {os.cpu_count()} cores; {threads} client threads; gunicorn {WEB_WORKERS} "
          f"sync workers and an RQ worker; SQLite WAL synchronous=FULL; {seconds:.0f} s per run; load "
          f"average {os.getloadavg()[0]:.1f} at the end")
    print(f"raw ORM insert+commit in one process: {raw:,.0f}/s")
    print(f"{'run':34} {'req/s':>8} {'median ms':>10} {'p99 ms':>8} {'errors':>7} "
          f"{'÷ baseline':>11} {'÷ raw write':>12}")
    for name, (rate, lat, errors) in results.items():
        p99 = percentile(lat, 0.99) * 1000
        print(f"{name:34} {rate:8.0f} {statistics.median(lat) * 1000:10.1f} {p99:8.1f} "
              f"{errors:7d} {rate / base_rate:11.2f} {rate / raw:12.2f}")
    worst = max(percentile(lat, 0.99) for _, lat, _ in results.values())
    print(f"slowest p99: {worst * 1000:.0f} ms = {worst / 15:.4f} of Twilio's 15 s")


if __name__ == "__main__":
    main()
