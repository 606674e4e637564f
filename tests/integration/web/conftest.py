"""Fixtures of the web board and Open311 tests: a browser-like client that keeps cookies, the
CSRF token of a page, and cases driven through the staff API to closed (and published)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any, Self

import pytest
from werkzeug.serving import make_server

from hotline.api.admin import create_user

LETTER = {
    "line": "board",
    "channel": "web",
    "category": "complaint",
    "content": "我叫张建华，家住贵阳市云岩区中华北路88号3栋2单元501室，电话13985012345。"
               "小区旁边的建筑工地每天夜里十二点以后还在施工，噪音很大，老人孩子无法休息，"
               "向区住建局反映过没有结果，请帮助解决。",
    "citizen": {"name": "张建华", "phone": "13985012345"},
    "region": "520103",
    "public_consent": True,
}
REPLY = ("经核查，该工地确存在夜间违规施工问题。区住建局已于11月25日约谈施工单位，责令其晚上"
         "十点后停止高噪音作业，并安排执法人员不定期夜查。如再发现夜间施工，请拨打12345反映。")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submission_of(html: str) -> str:
    match = re.search(r'name="submission" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def browser(app: Any):
    """A client that keeps its session cookie, like a citizen's browser."""
    return app.test_client()


@pytest.fixture
def handler_for(app: Any):
    """The API token of a handler of any department (made on first use)."""
    made: dict[str, str] = {}

    def token(department: str) -> str:
        if department not in made:
            made[department] = create_user(f"h-{department}", "handler", department)[1]
        return made[department]

    return token


@pytest.fixture
def drive(api: Any, tokens: Any, handler_for: Any):
    """Take a case from wherever intake left it to closed, through the staff API."""

    def run(number: str, reply: str = REPLY) -> dict:
        case = api.get(f"/cases/{number}", tokens.operator).get_json()
        if case["status"] in ("received", "returned", "reopened"):
            resp = api.post(f"/cases/{number}/dispatch", tokens.operator,
                            {"department": case["department"] or "gz-housing"})
            assert resp.status_code == 200, resp.get_json()
            case = resp.get_json()
        handler = handler_for(case["department"])
        for action, body in (("accept", {}), ("reply", {"text": reply})):
            resp = api.post(f"/cases/{number}/{action}", handler, body)
            assert resp.status_code == 200, resp.get_json()
        for action, body in (("review", {"approve": True}), ("close", {})):
            resp = api.post(f"/cases/{number}/{action}", tokens.operator, body)
            assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return run


@pytest.fixture
def closed_case(api: Any, tokens: Any, drive: Any):
    """A case logged with consent and closed with the department's answer."""

    def make(reply: str = REPLY, **overrides: Any) -> dict:
        resp = api.post("/cases", tokens.operator, {**LETTER, **overrides})
        assert resp.status_code == 201, resp.get_json()
        return drive(resp.get_json()["number"], reply)

    return make


@pytest.fixture
def published_case(api: Any, tokens: Any, closed_case: Any):
    """A closed case approved for the board as masking proposed it."""

    def make(**overrides: Any) -> dict:
        case = closed_case(**overrides)
        resp = api.post(f"/publications/{case['number']}/approve", tokens.supervisor, {})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return make


class LiveServer:
    """The app served over real HTTP on 127.0.0.1 (for clients that open sockets)."""

    def __init__(self, app: Any):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(10)


@pytest.fixture
def live_server(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
