"""Routing speed over the labelled set: per-message mean and p99 latency, messages per second.

    python bench/bench_routing.py [FILE.jsonl] [--rounds N]

Routes every message of the labelled set (tests/data/routing_labelled.jsonl) N times (3 by
default) after a warm-up that loads jieba's dictionary, and prints one line per figure. The
first-load time is reported separately: it is paid once per process, not per message. Wall
times include waiting for the CPU on a busy machine; the CPU figures are routing's own cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import Router, default_rules, demo_departments

LABELLED = ROOT / "tests" / "data" / "routing_labelled.jsonl"


def run(path: Path, rounds: int) -> dict[str, float]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    departments = demo_departments()
    router = Router(default_rules(departments), departments)
    started = time.perf_counter()
    router.route("预热：加载词典", "board")
    load_ms = (time.perf_counter() - started) * 1000.0
    latencies, cpu = [], []
    for _ in range(rounds):
        for r in records:
            c0, t0 = time.thread_time(), time.perf_counter()
            router.route(r["text"], r["line"], r.get("caller_region"))
            latencies.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.thread_time() - c0) * 1000.0)
    latencies.sort()
    cpu.sort()
    total_s = sum(latencies) / 1000.0
    return {
        "messages": len(latencies),
        "first_load_ms": load_ms,
        "mean_ms": statistics.fmean(latencies),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "max_ms": latencies[-1],
        "messages_per_s": len(latencies) / total_s if total_s else 0.0,
        # CPU time of the routing thread: what routing costs, without the time the OS gave
        # other processes (on a busy 2-core machine wall-clock p99 is mostly waiting).
        "cpu_mean_ms": statistics.fmean(cpu),
        "cpu_p99_ms": cpu[min(len(cpu) - 1, round(0.99 * (len(cpu) - 1)))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(LABELLED))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    figures = run(Path(args.path), args.rounds)
    print(f"routing: {figures['messages']:.0f} messages routed")
    print(f"routing first load (jieba + lexicons): {figures['first_load_ms']:.0f} ms")
    print(f"routing per-message mean: {figures['mean_ms']:.3f} ms")
    print(f"routing per-message p50: {figures['p50_ms']:.3f} ms")
    print(f"routing per-message p99: {figures['p99_ms']:.3f} ms")
    print(f"routing per-message max: {figures['max_ms']:.3f} ms")
    print(f"routing throughput: {figures['messages_per_s']:.0f} messages/s (one thread)")
    print(f"routing per-message CPU mean: {figures['cpu_mean_ms']:.3f} ms")
    print(f"routing per-message CPU p99: {figures['cpu_p99_ms']:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
