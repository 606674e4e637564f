"""Intake over HTTP against the same server's trivial endpoint, in one run on this machine.

    python bench/bench_intake.py [--seconds 8] [--threads 8] [--workers N]
                                 [--database-url URL [--keep]]

Starts the app as `hotline run` does (gunicorn with its sync workers, `hotline.cli.WEB_WORKERS`
unless `--workers` says otherwise, each warmed up as it boots;
a redis-server started here; SQLite WAL synchronous=FULL in a new file, or a scratch
PostgreSQL database given by URL, emptied, migrated and seeded here — with `--keep`, a
PostgreSQL database with its cases kept, e.g. a copy of the 1M-case bench database: only
brought up to date and given what the seed lacks) and drives it from client threads:

- baseline: GET /healthz — the server's raw request rate;
- raw commit: one small row INSERTed and COMMITted per call through the raw driver, one
  connection, in this process — the disk's limit for one durable commit after another (each
  intake is one such commit);
- intake: POST /api/v1/cases as an operator — validation, routing (topic, category, region,
  department, duplicate search), auto-dispatch, the notices, one commit, the case's JSON.
  The messages are the labelled routing set's (realistic text); one caller in ten calls again.

Prints requests/s, median and p99 of each and their ratios to the baseline (target for
intake ≥ 0.5) and to the raw commit.
The first case a freshly started web worker takes, against the next ones:
bench/bench_first_message.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

import requests
from _common import ROOT, Scratch, drive, percentile, prepare_database, raw_commits, served

from hotline.cli import WEB_WORKERS


def messages() -> list[dict]:
    path = ROOT / "tests" / "data" / "routing_labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=WEB_WORKERS,
                        help="web workers (default: as `hotline run`)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL database's cases (see above)")
    args = parser.parse_args()
    if args.keep and not (args.database_url or "").startswith("postgres"):
        parser.error("--keep is for a PostgreSQL database given by --database-url")

    scratch = Scratch.start("bench-intake-", args.database_url)
    env, tmp = scratch.env, scratch.folder
    samples = messages()
    try:
        token = prepare_database(
            scratch, empty_postgresql=not args.keep,
            then=f"_, token = create_user('bench-operator-{os.getpid()}', 'operator', None);"
                 "db.session.commit(); print(token)").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}

        def body(i: int) -> dict:
            m = samples[i % len(samples)]
            caller = i // 10 if i % 10 == 0 else i  # one caller in ten calls again
            return {"line": m["line"], "channel": "phone", "content": m["text"],
                    "citizen": {"phone": f"139{caller % 10**8:08d}"}}

        with served(env, tmp, workers=args.workers) as server:
            base = server.url
            warm = requests.Session()
            for i in range(10):  # connections, first pages of each worker's caches
                warm.post(base + "/api/v1/cases", json=body(10**6 + i), headers=headers)
            results = {
                "baseline GET /healthz": drive(args.seconds, args.threads,
                                               lambda s, i: s.get(base + "/healthz")),
                "raw commit (1 connection)": raw_commits(scratch.database, args.seconds),
                "intake POST /api/v1/cases": drive(
                    args.seconds, args.threads,
                    lambda s, i: s.post(base + "/api/v1/cases", json=body(i), headers=headers)),
            }

    finally:
        scratch.stop()

    print(f"intake over HTTP: gunicorn {args.workers} sync workers, {args.threads} client threads, "
          f"{args.seconds:.0f} s per run; {scratch.backend}; Redis; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':28}{'req/s':>8}{'median ms':>11}{'p99 ms':>9}{'errors':>8}{'÷ baseline':>12}"
          f"{'÷ raw commit':>14}")
    base_rate = results["baseline GET /healthz"][0]
    raw_rate = results["raw commit (1 connection)"][0]
    for name, (rate, lat, *errors) in results.items():
        print(f"{name:28}{rate:8.0f}{statistics.median(lat) * 1000:11.1f}"
              f"{percentile(lat, 0.99) * 1000:9.1f}{(errors or ['-'])[0]:>8}"
              f"{rate / base_rate:12.2f}{rate / raw_rate:14.2f}")


if __name__ == "__main__":
    main()
