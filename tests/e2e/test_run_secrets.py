"""What `hotline run` keeps on disk and writes to its log gives nothing away: the instance
folder is its owner's alone, the embedded Redis wants its password, and the access log holds
no phone tail and no survey token."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .conftest import HotlineRun

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineRun]:
    run = HotlineRun(tmp_path_factory.mktemp("secrets")).start()
    try:
        yield run
    finally:
        run.stop()
        print(f"--- output of hotline run ---\n{run.log()}")


def test_instance_folder_is_for_its_owner_only(server: HotlineRun):
    server.get("/api/v1/public/lines")  # a request or two: the database has its WAL by now
    instance = Path(server.env["HOTLINE_INSTANCE_PATH"])
    found = {p.relative_to(instance).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in [instance, *instance.rglob("*")]}
    assert {"hotline.db", "hotline.db-wal", "secret_key", "redis_password"} <= set(found)
    assert any(name.endswith(".aof") for name in found), found  # Redis's append-only file
    loose = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert loose == {}
    folders = {p.relative_to(instance).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
               for p in [instance, *instance.rglob("*")] if p.is_dir()}
    assert set(folders.values()) == {"0o700"}, folders


#: A refusal is the answer here: redis-py's default retries an authentication error with
#: back-off (3.5 s for each refused client before it said so).
NO_RETRY = Retry(NoBackoff(), 0)


def test_embedded_redis_refuses_a_client_without_the_password(server: HotlineRun):
    port = int(re.search(r"embedded redis-server on 127\.0\.0\.1:(\d+)", server.log(500))[1])
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=port, socket_timeout=5, retry=NO_RETRY).ping()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=port, password="guess", socket_timeout=5, retry=NO_RETRY).ping()
    password = (Path(server.env["HOTLINE_INSTANCE_PATH"]) / "redis_password").read_text()
    assert redis.Redis(port=port, password=password.strip(), socket_timeout=5).ping()
    assert password.strip() not in server.log(10_000)


def test_access_log_holds_no_phone_tail_and_no_survey_token(server: HotlineRun):
    token = "Q7mWv2LxR9pKc4Tz8HnB"
    status, _ = server.get("/api/v1/public/cases/ZT20261207-0001?phone_tail=8626")
    assert status == 404
    server.get(f"/survey/{token}")
    server.get(f"/survey/{token}", headers={"Referer": f"{server.base}/survey/{token}"})
    server.get("/healthz")  # the line after: the ones before are written by then
    log = server.log(10_000)
    requests = [line for line in log.splitlines() if '"GET /' in line]
    assert any("/api/v1/public/cases/ZT20261207-0001?phone_tail=[redacted]" in r
               for r in requests), requests
    assert any("/survey/[redacted]" in r for r in requests), requests
    # One line per request: two look-ups of the survey, two lines (not gunicorn's and the app's).
    assert sum("GET /survey/" in line for line in log.splitlines()) == 2, log
    assert "8626" not in log and token not in log
