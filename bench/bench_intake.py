"""Intake over HTTP against the same server's trivial endpoint, in one run on this machine.

    python bench/bench_intake.py [--seconds 8] [--threads 8] [--database-url URL]

Starts the app as `hotline run` does (gunicorn, 2 sync workers, each warmed up as it boots;
a redis-server started here; SQLite WAL synchronous=FULL in a new file, or a scratch
PostgreSQL database given by URL, migrated and seeded here) and drives it from client threads:

- baseline: GET /healthz — the server's raw request rate;
- intake: POST /api/v1/cases as an operator — validation, routing (topic, category, region,
  department, duplicate search), auto-dispatch, the notices, one commit, the case's JSON.
  The messages are the labelled routing set's (realistic text); one caller in ten calls again.

Prints requests/s, median and p99 of both and intake's ratio to the baseline (target ≥ 0.5).
The first case a freshly started web worker takes, against the next ones:
bench/bench_first_message.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.embedded import EmbeddedRedis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def messages() -> list[dict]:
    path = ROOT / "tests" / "data" / "routing_labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def prepare(env: dict, tmp: str) -> str:
    """Migrate, seed, and make an operator; the operator's API token."""
    code = ("from hotline import create_app; from hotline.cli import upgrade_database;"
            "from hotline.seed import seed_demo; from hotline.api.admin import create_user;"
            "from hotline.extensions import db; from sqlalchemy import text;"
            "app = create_app(); ctx = app.app_context(); ctx.push();"
            "db.session.execute(text('DROP SCHEMA public CASCADE; CREATE SCHEMA public'))"
            " if db.engine.dialect.name == 'postgresql' else None; db.session.commit();"
            "upgrade_database(app); seed_demo();"
            "_, token = create_user('bench-operator', 'operator', None); db.session.commit();"
            "print(token)")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def gunicorn(port: int, workers: int, env: dict, tmp: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "--backlog", "2048", "--log-level", "warning", "hotline.wsgi_app:app"],
        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_up(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not come up")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def drive(seconds: float, threads: int, make) -> tuple[float, list[float], int]:
    """`make(session, i)` from every thread for `seconds`: (rate, latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(10**9))
    until = time.perf_counter() + seconds

    def worker() -> None:
        session = requests.Session()
        mine, bad = [], 0
        while time.perf_counter() < until:
            with lock:
                i = next(counter)
            t0 = time.perf_counter()
            resp = make(session, i)
            mine.append(time.perf_counter() - t0)
            bad += resp.status_code not in (200, 201)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors[0]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-intake-")
    redis = EmbeddedRedis(Path(tmp) / "redis").start()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    database = args.database_url or f"sqlite:///{tmp}/hotline.db"
    env.update({"DATABASE_URL": database, "HOTLINE_INSTANCE_PATH": tmp, "REDIS_URL": redis.url,
                "SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT)})
    samples = messages()
    try:
        token = prepare(env, tmp)
        headers = {"Authorization": f"Bearer {token}"}

        def body(i: int) -> dict:
            m = samples[i % len(samples)]
            caller = i // 10 if i % 10 == 0 else i  # one caller in ten calls again
            return {"line": m["line"], "channel": "phone", "content": m["text"],
                    "citizen": {"phone": f"139{caller % 10**8:08d}"}}

        port = free_port()
        proc = gunicorn(port, 2, env, tmp)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(port, proc)
            warm = requests.Session()
            for i in range(10):  # connections, first pages of each worker's caches
                warm.post(base + "/api/v1/cases", json=body(10**6 + i), headers=headers)
            results = {
                "baseline GET /healthz": drive(args.seconds, args.threads,
                                               lambda s, i: s.get(base + "/healthz")),
                "intake POST /api/v1/cases": drive(
                    args.seconds, args.threads,
                    lambda s, i: s.post(base + "/api/v1/cases", json=body(i), headers=headers)),
            }
        finally:
            stop(proc)

    finally:
        redis.stop()

    backend = "PostgreSQL" if database.startswith("postgres") else "SQLite WAL synchronous=FULL"
    print(f"intake over HTTP: gunicorn 2 sync workers, {args.threads} client threads, "
          f"{args.seconds:.0f} s per run; {backend}; Redis; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':28}{'req/s':>8}{'median ms':>11}{'p99 ms':>9}{'errors':>8}{'÷ baseline':>12}")
    base_rate = results["baseline GET /healthz"][0]
    for name, (rate, lat, errors) in results.items():
        print(f"{name:28}{rate:8.0f}{statistics.median(lat) * 1000:11.1f}"
              f"{p99(lat) * 1000:9.1f}{errors:8d}{rate / base_rate:12.2f}")


if __name__ == "__main__":
    main()
