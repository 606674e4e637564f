"""Pytest fixtures for the fake servers and the real test Redis.

Load them with ``pytest_plugins = ["tests.fakeservers.fixtures"]`` (in the root conftest.py or a
test module). Fixtures:

- ``fake_twilio`` / ``fake_wechat`` / ``fake_smtp``: a fresh running fake server per test.
- ``redis_server``: one real redis-server for the whole session (``RedisServer``: ``.url``,
  ``.stop()``, ``.start()``, ``.down()`` for an outage, ``.client()``).
- ``redis_url``: the session server's URL, with the server running and its data flushed.
- ``redis_client``: a ``redis.Redis`` connected to it (bytes responses, as RQ expects).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from .redis import RedisServer
from .smtp import FakeSMTP
from .twilio import FakeTwilio
from .wechat import FakeWeChat


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture
def fake_smtp() -> Iterator[FakeSMTP]:
    with FakeSMTP() as fake:
        yield fake


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    # An earlier outage test may have left it stopped; every test starts from a clean Redis.
    redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()
