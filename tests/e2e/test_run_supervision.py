"""`hotline run` looks after what it started: a worker or embedded Redis killed with SIGKILL is
started again within seconds (a worker with nothing left of it: the schedulers it forked end
with it), nothing written meanwhile is lost or sent twice, and
`/readyz?deep=1` tells a worker that does not work and an outbox that has stopped moving."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeservers.twilio import FakeTwilio

from .conftest import HotlineRun

pytestmark = pytest.mark.slow

PHONE = "13985012345"
CASE = {"line": "zhitongche", "channel": "phone", "category": "situation",
        "content": "我公司在贵阳市，区里拖欠工程款两年未付，导致拖欠农民工工资，请帮助协调。",
        "citizen": {"name": "王建国", "phone": PHONE}}


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def child_pid(server: HotlineRun, marker: str) -> int | None:
    pids = [p for p, cmd in children(server.process.pid).items() if marker in cmd]
    return pids[0] if pids else None


def wait_for(what: str, test, within: float, server: HotlineRun):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = test()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {within:.0f} s\n{server.log()}")


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, twilio: FakeTwilio
           ) -> Iterator[HotlineRun]:
    folder = tmp_path_factory.mktemp("supervised")
    run = HotlineRun(folder, extra_env={
        "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE": twilio.url, "PUBLIC_BASE_URL": "https://rx.guizhou.example",
        # Fast rhythms, so that the test sees in seconds what takes minutes by default.
        "RELAY_INTERVAL": "1", "OUTBOX_RELAY_GRACE_SECONDS": "1", "OUTBOX_BACKOFF_SECONDS": "1",
        "WORKER_TTL": "3", "OUTBOX_STALL_SECONDS": "3",
        # A killed scheduler's lease outlives it in Redis's append-only file: at the default
        # 30 s the restarted one waited out most of the test's window (a flaky failure).
        "CRON_LEASE_SECONDS": "3",
    }).start()
    try:
        yield run
    finally:
        run.stop()
        print(f"--- output of hotline run ---\n{run.log()}")


@pytest.fixture(scope="module")
def operator(server: HotlineRun) -> str:
    from hotline import create_app
    from hotline.api.admin import create_user

    instance = server.env["HOTLINE_INSTANCE_PATH"]
    app = create_app({"INSTANCE_PATH": instance, "REDIS_URL": None,
                      "DATABASE_URL": f"sqlite:///{instance}/hotline.db"})
    with app.app_context():
        return create_user("op-supervision", "operator", None)[1]


def post(server: HotlineRun, path: str, token: str, body: dict) -> dict:
    import json
    import urllib.request

    request = urllib.request.Request(
        server.base + "/api/v1" + path, method="POST", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    # A web process's first case loads the routing dictionaries: seconds on a busy machine.
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def texts_about(twilio: FakeTwilio, number: str) -> list[str]:
    return [m["body"] for m in list(twilio.messages) if number in m["body"]]


def schedulers_of(worker: int) -> list[int]:
    """The worker's children in its own process group: RQ's scheduler and the periodic jobs'
    (a job's work horse leads a group of its own)."""
    found = []
    for pid in children(worker):
        try:
            group = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
        except (OSError, IndexError, ValueError):
            continue
        if group == worker:
            found.append(pid)
    return found


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie nobody has reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_killed_worker_takes_its_schedulers_with_it_and_comes_back_to_send_once(
        server: HotlineRun, operator: str, twilio: FakeTwilio):
    """kill -9 of the worker alone (Redis stays up): the schedulers it forked (RQ's and the
    periodic jobs') would live on, holding their locks, unless ended with it. First in the
    module: after a kill, RQ's scheduler of the next worker waits out the dead one's lock (a
    minute) before it starts."""
    worker = wait_for("the worker running with its schedulers", lambda: (
        (pid := child_pid(server, "hotline.cli worker")) and len(schedulers_of(pid)) == 2
        and pid), 15, server)
    schedulers = schedulers_of(worker)
    os.kill(worker, signal.SIGKILL)

    # Written while the worker is down: the case and its message are in the database.
    number = post(server, "/cases", operator, CASE)["number"]
    post(server, f"/cases/{number}/dispatch", operator, {"department": "gz-hrss"})

    wait_for("the dead worker's schedulers ended with it",
             lambda: all(gone(pid) for pid in schedulers), 5, server)
    wait_for("the worker started again", lambda: (
        child_pid(server, "hotline.cli worker") not in (None, worker)), 10, server)
    wait_for("the dispatch SMS sent", lambda: texts_about(twilio, number), 15, server)
    time.sleep(2)  # two more relay rounds: nothing goes twice
    sent = texts_about(twilio, number)
    assert len(sent) == 1 and "已转交" in sent[0], sent
    # The supervisor's report of it gives its level in full (it read "WARNI").
    [exited] = [line for line in server.log(500).splitlines() if "worker (exit code -9" in line]
    assert "WARNING" in exited, exited


def test_killed_worker_and_redis_come_back_and_a_message_written_meanwhile_goes_once(
        server: HotlineRun, operator: str, twilio: FakeTwilio):
    worker, redis = child_pid(server, "hotline.cli worker"), child_pid(server, "redis-server")
    assert worker and redis, children(server.process.pid)
    for _ in range(2):  # both web processes warmed up (routing loaded)
        post(server, "/cases", operator, CASE)
    os.kill(worker, signal.SIGKILL)
    os.kill(redis, signal.SIGKILL)

    # Written while both are down: the case and its message are in the database.
    number = post(server, "/cases", operator, CASE)["number"]
    post(server, f"/cases/{number}/dispatch", operator, {"department": "gz-hrss"})

    wait_for("worker and redis-server started again", lambda: (
        child_pid(server, "hotline.cli worker") not in (None, worker)
        and child_pid(server, "redis-server") not in (None, redis)), 10, server)
    wait_for("the dispatch SMS sent", lambda: texts_about(twilio, number), 20, server)
    wait_for("deep readiness back", lambda: server.get("/readyz?deep=1")[0] == 200, 10, server)
    time.sleep(3)  # three more relay rounds: nothing goes twice
    sent = texts_about(twilio, number)
    assert len(sent) == 1 and "已转交" in sent[0], sent
    restarts = server.log(500)
    assert "worker (exit code -9" in restarts and "embedded redis-server (exit code -9" in restarts


def test_deep_readiness_tells_a_worker_that_stopped_working_and_the_outbox_waiting(
        server: HotlineRun, operator: str, twilio: FakeTwilio):
    wait_for("deep readiness", lambda: server.get("/readyz?deep=1")[0] == 200, 10, server)
    worker = child_pid(server, "hotline.cli worker")
    stopped = [worker, *children(worker)]
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)  # hung: alive, silent, doing nothing
    try:
        number = post(server, "/cases", operator, CASE)["number"]
        post(server, f"/cases/{number}/dispatch", operator, {"department": "gz-hrss"})
        _, body = wait_for("deep readiness failing", lambda: (
            (r := server.get("/readyz?deep=1"))[0] == 503
            and r[1]["checks"]["worker"] != "ok" and r[1]["checks"]["outbox"] != "ok" and r),
            15, server)
        assert body["checks"]["worker"].startswith("error: no worker heard from")
        assert "oldest due message has waited" in body["checks"]["outbox"]
        assert server.get("/readyz")[0] == 200  # intake goes on
        assert texts_about(twilio, number) == []
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    wait_for("the worker heard from again", lambda: server.get("/readyz?deep=1")[1]["checks"][
        "worker"] == "ok", 15, server)
    # The worker may be writing the bulletins of its first hour (one job at a time) before it
    # relays the message that waited.
    wait_for("the dispatch SMS sent", lambda: texts_about(twilio, number), 60, server)
    wait_for("deep readiness back", lambda: server.get("/readyz?deep=1")[0] == 200, 10, server)


def test_metrics_add_up_the_requests_of_every_web_process(server: HotlineRun):
    series = 'hotline_http_requests_total{method="GET",route="/healthz",status="200"}'

    def healthz_count() -> float:
        status, text = server.get("/metrics")
        assert status == 200, text
        line = next((li for li in text.splitlines() if li.startswith(series + " ")), None)
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = healthz_count()
    for _ in range(12):  # over new connections: both gunicorn workers answer some
        assert server.get("/healthz")[0] == 200
    assert healthz_count() - before == 12
    _, text = server.get("/metrics")
    assert 'hotline_cases_received_total{line="zhitongche"}' in text
    assert "hotline_worker_heartbeat_age_seconds{" in text
