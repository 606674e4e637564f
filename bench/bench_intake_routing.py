"""What routing adds to intake: cases logged through the core with and without the routing
hook, in one run on this machine, on a real SQLite file (WAL, synchronous=FULL).

    python bench/bench_intake_routing.py [N]

Prints ms per case for both and the difference and ratio. The target is "well under 10 ms
added per case". Messages come from the labelled routing set, so the text is realistic.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline import create_app, services
from hotline.cli import upgrade_database
from hotline.domain.lifecycle import Actor
from hotline.seed import seed_demo
from hotline.wiring import AREAS


def messages() -> list[dict]:
    path = ROOT / "tests" / "data" / "routing_labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run(n: int, with_routing: bool) -> list[float]:
    tmp = tempfile.mkdtemp()
    # Without routing: every area but routing (hotline.wiring.AREAS).
    areas = [name for name, _ in AREAS if with_routing or name != "routing"]
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "INSTANCE_PATH": tmp,
                      "SECRET_KEY": "bench", "HOTLINE_AREAS": areas})
    upgrade_database(app)
    actor = Actor("bench", "operator")
    samples = messages()
    times: list[float] = []
    with app.app_context():
        seed_demo()
        for i in range(n):
            m = samples[i % len(samples)]
            data = {"line": m["line"], "channel": "phone", "content": m["text"],
                    "citizen": {"phone": f"139{i:08d}"}}
            started = time.perf_counter()
            services.create_case(data, actor)
            times.append(time.perf_counter() - started)
    return times[n // 10:]  # leave out the warm-up (first connections, dictionary load)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    bare = run(n, with_routing=False)
    routed = run(n, with_routing=True)
    b, r = statistics.mean(bare) * 1000, statistics.mean(routed) * 1000
    b99 = statistics.quantiles(bare, n=100)[98] * 1000
    r99 = statistics.quantiles(routed, n=100)[98] * 1000
    print(f"intake without routing: {b:.2f} ms/case (p99 {b99:.2f})")
    print(f"intake with routing:    {r:.2f} ms/case (p99 {r99:.2f})")
    print(f"routing adds {r - b:.2f} ms/case; ratio with/without = {r / b:.2f}")


if __name__ == "__main__":
    main()
