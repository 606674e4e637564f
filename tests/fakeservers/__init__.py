"""Local stand-ins for the outside world in tests: Twilio's and WeChat's APIs, and a real Redis.

``FakeTwilio`` and ``FakeWeChat`` are small threaded HTTP servers on 127.0.0.1 (ephemeral port)
that record every request (``fake.requests``: method, path, query, headers, body, form, json);
``RedisServer`` runs a real redis-server that a test can stop and start again on the same port.
Pytest fixtures for all of them are in ``tests.fakeservers.fixtures``::

    pytest_plugins = ["tests.fakeservers.fixtures"]

    def test_survey_sms(fake_twilio):
        config = fake_twilio.config()  # TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _API_BASE
        ...
        assert fake_twilio.messages[0]["body"] == "…"

    def test_intake_survives_redis_outage(redis_server, redis_url):
        with redis_server.down():
            ...  # Redis is stopped here, back (same port, same data) afterwards

Failures: ``fake_twilio.fail_next(status=500)``, ``fake_twilio.fail_next(status=400,
code=21211)``, ``fake_wechat.fail_next(errcode=-1, path="message/custom")``,
``fake.delay_next(seconds=2)`` (the request takes effect after the client has given up).
"""

from ._http import RecordedRequest, Reply
from .redis import RedisServer
from .twilio import FakeTwilio
from .wechat import FakeWeChat

__all__ = ["FakeTwilio", "FakeWeChat", "RecordedRequest", "RedisServer", "Reply"]
