"""The CPU one intake costs the server, in-process: `POST /api/v1/cases` through the whole WSGI
app (every area wired, a real redis-server, the fast path), on a new SQLite file (WAL,
synchronous=FULL) or a scratch PostgreSQL database given by URL (emptied first).

    python bench/profile_intake.py [--cases 300] [--database-url URL] [--profile [N]]

Prints the process's CPU time per case (`time.process_time`), the median of ten slices, each
followed by as many `GET /healthz` (their CPU per request, and the ratio of the two), and the
SQL statements per case; with `--profile`, a second run sampled
every millisecond (or the kernel's tick) of the process's CPU time (SIGPROF: no tracing overhead to distort the small
functions) and the N functions found most often on the stack (Hotline's own code: what each
part of intake costs with all it calls) and at its top (anyone's: where the time is spent),
in ms per case. The ratio against `GET /healthz` over HTTP is bench/bench_intake.py's; this
says where one case's CPU goes.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import statistics
import time

from _common import ROOT, Scratch, prepare_database
from sqlalchemy import event


def messages() -> list[dict]:
    path = ROOT / "tests" / "data" / "routing_labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


INTERVAL = 0.001  # s of the process's CPU time between samples
OWN = tuple(str(ROOT / area) for area in ("hotline", "routing", "workers", "channels"))


def sample(fn) -> tuple[collections.Counter, collections.Counter]:
    """Run `fn`, noting the stack every `INTERVAL` of CPU time: how often each function was on
    it (once per sample, however deep) and at its top."""
    on_stack: collections.Counter = collections.Counter()
    on_top: collections.Counter = collections.Counter()

    def where(frame) -> tuple[str, int, str]:
        code = frame.f_code
        return code.co_filename, code.co_firstlineno, code.co_name

    def note(signum, frame) -> None:
        on_top[where(frame)] += 1
        seen = set()
        while frame is not None:
            seen.add(where(frame))
            frame = frame.f_back
        on_stack.update(seen)

    signal.signal(signal.SIGPROF, note)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
    try:
        fn()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
    return on_stack, on_top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=0)
    parser.add_argument("--all", action="store_true",
                        help="every module's functions on the stack, not only Hotline's")
    args = parser.parse_args()

    scratch = Scratch.start("profile-intake-", args.database_url)
    try:
        token = prepare_database(
            scratch, empty_postgresql=True,
            then="_, token = create_user('profile-operator', 'operator', None);"
                 "db.session.commit(); print(token)").strip().splitlines()[-1]
        os.environ.update(scratch.env)
        from hotline import create_app, warm_up
        from hotline.extensions import db

        app = create_app()
        warm_up(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        samples = messages()
        statements = [0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda *a: statements.__setitem__(0, statements[0] + 1))

        def body(i: int) -> dict:
            m = samples[i % len(samples)]
            caller = i // 10 if i % 10 == 0 else i  # one caller in ten calls again
            return {"line": m["line"], "channel": "phone", "content": m["text"],
                    "citizen": {"phone": f"139{caller % 10**8:08d}"}}

        def run(first: int, n: int) -> tuple[float, float]:
            statements[0] = 0
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(first, first + n):
                resp = client.post("/api/v1/cases", json=body(i), headers=headers)
                assert resp.status_code == 201, resp.get_data(as_text=True)
            return time.process_time() - cpu, time.perf_counter() - wall

        def probes(n: int) -> float:
            cpu = time.process_time()
            for _ in range(n):
                assert client.get("/healthz").status_code == 200
            return time.process_time() - cpu

        run(10**6, 20)  # connections, caches, compiled statements
        probes(20)
        n = args.cases
        # In slices, intake's and the probe's in turn: what the rest of the machine does
        # meanwhile (it slows every process's CPU time too) weighs on both alike, and the
        # median slice leaves out the bursts.
        slices, size = [], max(1, n // 10)
        count = 0
        for first in range(0, n, size):
            cpu, wall = run(first, size)
            count += statements[0]
            slices.append((cpu / size, wall / size, probes(size) / size))
        cpu, wall, probe = (statistics.median(s[i] for s in slices) for i in range(3))
        print(f"intake in-process: {n} cases, {scratch.backend}, load average "
              f"{os.getloadavg()[0]:.1f}: {cpu * 1000:.2f} ms CPU and {wall * 1000:.2f} ms "
              f"wall per case (median of {len(slices)} slices), {count / n:.1f} statements; "
              f"GET /healthz {probe * 1000:.2f} ms CPU; ratio {probe / cpu:.3f}")
        if args.profile:
            spent: list[float] = []
            on_stack, on_top = sample(lambda: spent.extend(run(n, n)))
            # The kernel's timer ticks coarser than asked (HZ): a sample is its share of the
            # CPU time measured.
            ms = spent[0] * 1000 / max(1, sum(on_top.values())) / n
            own = [(k, v) for k, v in on_stack.items() if args.all or k[0].startswith(OWN)]
            for title, rows in (("on the stack (Hotline's code)", own),
                                ("at the top (anyone's)", list(on_top.items()))):
                print(f"\nms CPU per case, {title}:")
                for (path, line, name), count in sorted(rows, key=lambda r: -r[1])[:args.profile]:
                    print(f"{count * ms:8.2f}  {name}  {path}:{line}")
    finally:
        scratch.stop()


if __name__ == "__main__":
    main()
