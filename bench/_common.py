"""What the benchmarks share: a scratch folder with a redis-server and a database, gunicorn
started as `hotline run` starts it, client threads that drive it, percentiles, medians of
repeated timings and the SQLite bench databases' raw timestamps.

A benchmark reports ratios against a baseline measured in the same run on the same machine;
these helpers only start, drive and time, so that every benchmark does it the same way.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hotline.embedded import EmbeddedRedis, free_port

__all__ = ["CITIZEN_MESSAGES", "ROOT", "Scratch", "Served", "children_of", "cpu_of", "drive",
           "free_port", "gunicorn", "percentile", "prepare_database", "raw_commits", "seeded_app",
           "served", "stop", "take_option", "timed", "utc_text", "wait_until_idle",
           "wait_until_settled",
           "wait_until_up"]

#: What citizens write, as the benchmarks send it (real matters of the province's hotlines).
CITIZEN_MESSAGES = (
    "我家在威宁县迤那镇，低保申请交上去半年了还没有消息，想问问什么时候能批下来。",
    "我在毕节打工的工资被拖欠了四个月，老板一直说没钱，请帮忙协调。",
    "我们村的通组公路塌方了，车过不去，学生上学要绕很远，请尽快派人修。",
    "贵阳高新区的技改补贴已经公示三个月了还没有拨付到位，企业资金很紧张。",
    "镇上的农贸市场每天早上占道经营，学生上学要走到马路中间，太危险了。",
    "小区楼下的烧烤店每天营业到凌晨两点，油烟和噪音让老人孩子都睡不着。",
)

#: How SQLAlchemy stores instants in SQLite (naive UTC): the bench databases are written with
#: raw SQL in this form.
TS = "%Y-%m-%d %H:%M:%S.%f"


def utc_text(moment: dt.datetime) -> str:
    """`moment` as a SQLite bench database stores it."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).strftime(TS)


def seeded_app(url: str, instance: Path, empty_postgresql: bool = False):
    """An app on the bench database at `url` (no area's hooks), migrated and seeded with the
    demo lines, categories and departments; with `empty_postgresql`, emptied first."""
    from hotline import create_app
    from hotline.cli import upgrade_database
    from hotline.extensions import db
    from hotline.seed import seed_demo

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench", "HOTLINE_AREAS": ()})
    if empty_postgresql:
        with app.app_context():
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
            db.session.remove()
    upgrade_database(app)
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    return app


@dataclass
class Scratch:
    """A scratch folder, a redis-server started in it, and the environment a server and a
    worker run with: the database at `database_url`, or a new SQLite file in the folder."""

    folder: str
    redis: EmbeddedRedis
    env: dict[str, str]
    database: str

    @classmethod
    def start(cls, prefix: str, database_url: str | None = None, **env: str) -> Scratch:
        folder = tempfile.mkdtemp(prefix=prefix)
        redis = EmbeddedRedis(Path(folder) / "redis").start()
        base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        database = database_url or f"sqlite:///{folder}/hotline.db"
        base.update({"DATABASE_URL": database, "HOTLINE_INSTANCE_PATH": folder,
                     "REDIS_URL": redis.url, "SECRET_KEY": "bench-secret",
                     "PYTHONPATH": str(ROOT), **env})
        return cls(folder, redis, base, database)

    def stop(self) -> None:
        """Stop the redis-server and remove the folder with everything written in it (a
        SQLite database, logs): each run leaves nothing behind in the temp folder."""
        self.redis.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def backend(self) -> str:
        """The database as the benchmarks' reports name it."""
        if self.database.startswith("postgres"):
            return "PostgreSQL"
        return "SQLite WAL synchronous=FULL"


def prepare_database(scratch: Scratch, then: str = "", empty_postgresql: bool = False) -> str:
    """Migrate and seed the scratch database in a process of its own (as `hotline run` would
    find it), then run the Python statements `then` there; what they print. With
    `empty_postgresql`, a PostgreSQL database is emptied first."""
    empty = ("db.session.execute(text('DROP SCHEMA public CASCADE; CREATE SCHEMA public'))"
             " if db.engine.dialect.name == 'postgresql' else None; db.session.commit();"
             if empty_postgresql else "")
    code = ("from hotline import create_app; from hotline.cli import upgrade_database;"
            "from hotline.seed import seed_demo; from hotline.identity import create_user;"
            "from hotline.extensions import db; from sqlalchemy import text;"
            "app = create_app(); ctx = app.app_context(); ctx.push();"
            f"{empty} upgrade_database(app); seed_demo(); db.session.commit();" + then)
    return subprocess.run([sys.executable, "-c", code], env=scratch.env, cwd=scratch.folder,
                          check=True, capture_output=True, text=True).stdout


def gunicorn(port: int, env: dict[str, str], cwd: str | Path, workers: int = 2,
             threads: int = 1, app: str | None = None) -> subprocess.Popen:
    """gunicorn on loopback serving Hotline as `hotline run` starts it
    (`hotline.cli.gunicorn_command`), or, given `app`, that WSGI app with as many workers (a
    baseline); with `threads` > 1, gthread workers."""
    from hotline.cli import gunicorn_command

    bind = f"127.0.0.1:{port}"
    if app is None:
        command = gunicorn_command(bind, workers)
    else:
        command = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
                   app]
    if threads > 1:  # options go before the app: after `python -m gunicorn`
        command[3:3] = ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


class Served(NamedTuple):
    """A server this benchmark started: its port and base URL."""

    port: int
    url: str


@contextmanager
def served(env: dict[str, str], cwd: str | Path, workers: int = 2, threads: int = 1,
           app: str | None = None, health: str = "/healthz") -> Iterator[Served]:
    """gunicorn (see `gunicorn`) on a free port, up and answering `health`; stopped after."""
    port = free_port()
    proc = gunicorn(port, env, cwd, workers=workers, threads=threads, app=app)
    try:
        wait_until_up(port, proc, health)
        yield Served(port, f"http://127.0.0.1:{port}")
    finally:
        stop(proc)


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's master: its web workers)."""
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


class Cpu(NamedTuple):
    """What a process has used so far: CPU time (ns, the scheduler's own count, not the
    10 ms ticks of /proc/PID/stat) and minor page faults (copy-on-write copies among them)."""

    ns: int
    minor_faults: int

    def __sub__(self, earlier: Cpu) -> Cpu:  # type: ignore[override]
        return Cpu(self.ns - earlier.ns, self.minor_faults - earlier.minor_faults)


def cpu_of(pid: int) -> Cpu:
    """The CPU time and minor page faults of process `pid` (Linux), to time one request on the
    server's side: what it cost the process, whatever else the machine was doing."""
    ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return Cpu(ns, int(stat[7]))


def wait_until_idle(pid: int, within: float = 5) -> None:
    """Return once process `pid` sleeps (a web worker back in its accept loop after answering:
    what it does after the response, its access log, counts too)."""
    until = time.monotonic() + within
    while time.monotonic() < until:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "S":
            return
        time.sleep(0.001)


def wait_until_settled(pid: int, quiet: float = 1.0, within: float = 120) -> None:
    """Return once process `pid` has used no CPU for `quiet` seconds (a web worker done
    settling, asleep in its accept loop)."""
    until = time.monotonic() + within
    last, since = cpu_of(pid).ns, time.monotonic()
    while time.monotonic() < until:
        time.sleep(0.05)
        now = cpu_of(pid).ns
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise SystemExit(f"process {pid} never went quiet")


def take_option(args: list[str], name: str) -> str | None:
    """The value after `name` in the command line's `args` (both taken out of it), or None."""
    if name not in args:
        return None
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def wait_until_up(port: int, proc: subprocess.Popen, path: str = "/healthz",
                  within: float = 120) -> None:
    """Return once GET `path` answers; exit the benchmark if the server exits or never does."""
    until = time.monotonic() + within
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not come up")


def stop(proc: subprocess.Popen, within: float = 15) -> None:
    """Stop a server or worker this benchmark started."""
    proc.terminate()
    try:
        proc.wait(within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def drive(seconds: float, threads: int, make: Callable[[requests.Session, int], requests.Response],
          ok: tuple[int, ...] = (200, 201)) -> tuple[float, list[float], int]:
    """Call `make(session, i)` from `threads` client threads for `seconds`, each thread with
    its own session and every call a new `i`: (requests/s, latencies in s, answers not `ok`)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(10**9))
    until = time.perf_counter() + seconds

    def worker() -> None:
        session = requests.Session()
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < until:
            with lock:
                i = next(counter)
            t0 = time.perf_counter()
            resp = make(session, i)
            mine.append(time.perf_counter() - t0)
            bad += resp.status_code not in ok
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


def raw_commits(database: str, seconds: float) -> tuple[float, list[float]]:
    """One small row inserted and committed per call, one connection, as durable as Hotline's
    commits (SQLite WAL synchronous=FULL; PostgreSQL synchronous_commit on), into a table of
    its own dropped after: (commits/s, latencies in s)."""
    if database.startswith("postgres"):
        connection = psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://"),
                                     options="-c synchronous_commit=on")
        mark = "%s"
    else:
        connection = sqlite3.connect(database.removeprefix("sqlite:///"))
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        mark = "?"
    table = f"bench_raw_commit_{os.getpid()}"
    connection.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, body text)")
    connection.commit()
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            connection.execute(f"INSERT INTO {table} (id, body) VALUES ({mark}, {mark})",
                               (len(latencies), "一条诉求" * 50))
            connection.commit()
            latencies.append(time.perf_counter() - t0)
    finally:
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
        connection.close()
    return len(latencies) / seconds, latencies


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0.99 for p99) by nearest rank: the value below which `q` of the
    others lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def timed(fn: Callable[[], object], runs: int = 3, warm_up: bool = False) -> float:
    """The median wall-clock seconds of `runs` calls of `fn`, after one untimed call when
    `warm_up`."""
    if warm_up:
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
