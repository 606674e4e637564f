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
import json
import os
import statistics

import requests
from _common import ROOT, Scratch, drive, percentile, prepare_database, served


def messages() -> list[dict]:
    path = ROOT / "tests" / "data" / "routing_labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    scratch = Scratch.start("bench-intake-", args.database_url)
    env, tmp = scratch.env, scratch.folder
    samples = messages()
    try:
        token = prepare_database(
            scratch, empty_postgresql=True,
            then="_, token = create_user('bench-operator', 'operator', None);"
                 "db.session.commit(); print(token)").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}

        def body(i: int) -> dict:
            m = samples[i % len(samples)]
            caller = i // 10 if i % 10 == 0 else i  # one caller in ten calls again
            return {"line": m["line"], "channel": "phone", "content": m["text"],
                    "citizen": {"phone": f"139{caller % 10**8:08d}"}}

        with served(env, tmp, workers=2) as server:
            base = server.url
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
        scratch.redis.stop()

    print(f"intake over HTTP: gunicorn 2 sync workers, {args.threads} client threads, "
          f"{args.seconds:.0f} s per run; {scratch.backend}; Redis; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':28}{'req/s':>8}{'median ms':>11}{'p99 ms':>9}{'errors':>8}{'÷ baseline':>12}")
    base_rate = results["baseline GET /healthz"][0]
    for name, (rate, lat, errors) in results.items():
        print(f"{name:28}{rate:8.0f}{statistics.median(lat) * 1000:11.1f}"
              f"{percentile(lat, 0.99) * 1000:9.1f}{errors:8d}{rate / base_rate:12.2f}")


if __name__ == "__main__":
    main()
