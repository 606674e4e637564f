"""Fixtures of the WeChat channel's tests: the default account configured as from the
environment, and citizens who talk to it through real signed (and encrypted) requests built
with wechatpy's crypto (`channels.wechat.simulator`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from channels.wechat.simulator import Simulator
from hotline import inbox
from hotline.api.admin import create_user
from hotline.extensions import db
from hotline.models import InboxMessage, OutboxMessage
from tests.integration.web.conftest import LiveServer

TOKEN = "hotlineWxToken2026"
APPID = "wx0123456789abcdef"  # the fake WeChat server's default appid
SECRET = "fake-wechat-secret"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F0dgmFbOk3B3lLqYs4nXg6u"  # 43 characters, like the console's
ACCOUNT_USER = "gh_9b5d3c1a7e2f"


@dataclass
class Citizen:
    """One WeChat user writing to an account, as WeChat's servers relay them."""

    client: Any
    sim: Simulator
    openid: str
    path: str = "/channels/wechat"

    def post(self, xml: str | bytes, **query: str):
        request = self.sim.request(xml, openid=self.openid)
        params = {**request.query, **query}
        return self.client.post(self.path, query_string=params, data=request.body,
                                content_type="text/xml")

    def send(self, xml: str | bytes) -> str:
        """What the citizen gets back: the webhook acknowledges at once, a worker does the
        rest (run here as the worker's job runs it) and its reply goes out through the
        outbox as a customer-service message ("" when there is nothing to say)."""
        resp = self.post(xml)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.data == b"success"
        return self.work()

    def work(self) -> str:
        """Let the worker do what the inbox holds; the reply to this citizen's last message."""
        inbox.process_pending()
        row = db.session.scalars(select(InboxMessage).where(InboxMessage.sender == self.openid)
                                 .order_by(InboxMessage.id.desc()).limit(1)).first()
        if row is None:
            return ""
        reply = db.session.scalar(select(OutboxMessage.text).where(
            OutboxMessage.dedupe_key == f"wechat-reply:{row.dedupe_key}"))
        return reply or ""

    def say(self, text: str) -> str:
        return self.send(self.sim.text(self.openid, text))

    def click(self, key: str) -> str:
        return self.send(self.sim.event(self.openid, "CLICK", key))

    def subscribe(self) -> str:
        return self.send(self.sim.event(self.openid, "subscribe"))


def account_config(mode: str) -> dict[str, Any]:
    config = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
              "WECHAT_AES_KEY": AES_KEY if mode != "plain" else None,
              "WECHAT_ACCOUNT_NAME": "贵州12345", "WECHAT_LINE": "fupin"}
    return config


@pytest.fixture
def wechat(app):
    """The app with the default account in safe mode (WECHAT_AES_KEY set)."""
    app.config.update(account_config("safe"))
    return app


@pytest.fixture
def live_server(wechat):
    """The app served over HTTP on a free port (for the command line and chunked uploads)."""
    with LiveServer(wechat) as server:
        yield server.url


@pytest.fixture
def citizen_factory(wechat):
    client = wechat.test_client()

    def make(openid: str, mode: str = "safe", path: str = "/channels/wechat", token: str = TOKEN,
             aes_key: str | None = AES_KEY, appid: str | None = APPID) -> Citizen:
        sim = Simulator(token, appid=appid, aes_key=aes_key if mode != "plain" else None,
                        mode=mode, account_user=ACCOUNT_USER)
        return Citizen(client, sim, openid, path)

    return make


@pytest.fixture
def citizen(citizen_factory) -> Citizen:
    return citizen_factory("oGz5v0ZKxqL2m8Yt3Hn4RcUe7Wb1")


def number_in(reply: str) -> str:
    match = re.search(r"[A-Z]{2}\d{8}-\d{4}", reply)
    assert match, reply
    return match.group(0)


def handle_as_staff(api, tokens, number: str) -> None:
    """Dispatch (unless routing already did), sign for, answer and review the case."""
    case = api.get(f"/cases/{number}", tokens.operator).get_json()
    if case["status"] == "received":
        resp = api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-civil"})
        assert resp.status_code == 200, resp.get_json()
        case = resp.get_json()
    _, handler = create_user("handler-wx", "handler", case["department"])
    for token, action, body in (
            (handler, "accept", {}),
            (handler, "reply", {"text": "经核实，您家的低保申请已由威宁县民政局审核通过，"
                                        "将从下月起按月发放。"}),
            (tokens.supervisor, "review", {"approve": True})):
        resp = api.post(f"/cases/{number}/{action}", token, body)
        assert resp.status_code == 200, (action, resp.get_json())
