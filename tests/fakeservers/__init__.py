"""Local stand-ins for the outside world in tests: Twilio's and WeChat's APIs, and a real Redis.

``FakeTwilio`` and ``FakeWeChat`` are small threaded HTTP servers on 127.0.0.1 that record every
request; ``RedisServer`` runs a real redis-server that tests can stop and start again. Pytest
fixtures for all three are in ``tests.fakeservers.fixtures``.
"""

from ._http import RecordedRequest, Reply
from .redis import RedisServer
from .twilio import FakeTwilio
from .wechat import FakeWeChat

__all__ = ["FakeTwilio", "FakeWeChat", "RecordedRequest", "RedisServer", "Reply"]
