"""An Idempotency-Key sent by many clients at the same moment (a phone system retrying while
the first request is still running): one case is made, every other answer is that case (200)
or, for another body, a conflict (409) — never a 500. Real concurrent requests against the app
served over HTTP, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Case
from tests.integration.web.conftest import LiveServer

from ..conftest import CASE

# Enough to race; few enough to share the database server with other work.
CLIENTS = 8


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    with LiveServer(app) as server:
        yield server.url


def _post_together(url: str, token: str | None, key: str, bodies: list[dict],
                   path: str = "/api/v1/cases") -> list[requests.Response]:
    start = threading.Barrier(len(bodies))
    headers = {"Idempotency-Key": key}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def post(body: dict) -> requests.Response:
        start.wait()
        return requests.post(f"{url}{path}", json=body, timeout=60, headers=headers)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _cases() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case))


def test_the_same_key_sent_at_once_makes_one_case(served, tokens):
    answers = _post_together(served, tokens.operator, "trunk-7731-0001", [CASE] * CLIENTS)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 200: CLIENTS - 1}, [r.text for r in answers if r.status_code >= 500]
    assert len({r.json()["number"] for r in answers}) == 1
    assert _cases() == 1


def test_the_same_key_with_two_bodies_at_once_is_one_case_and_conflicts(served, tokens):
    other = {**CASE, "content": "另一件事：小区门口的路灯坏了一个月，晚上出行很不方便。"}
    bodies = [CASE if i % 2 else other for i in range(CLIENTS)]
    answers = _post_together(served, tokens.operator, "trunk-7731-0002", bodies)
    statuses = Counter(r.status_code for r in answers)
    assert statuses[201] == 1 and set(statuses) <= {200, 201, 409}, statuses
    made = next(r.json() for r in answers if r.status_code == 201)
    for body, r in zip(bodies, answers, strict=True):
        same = body["content"] == made["content"]
        assert r.status_code == (200 if same else 409) or r.status_code == 201
        if r.status_code == 200:
            assert r.json()["number"] == made["number"]
    assert _cases() == 1


def test_a_web_message_sent_twice_at_once_is_one_case(app, served):
    app.config["WEB_RATE_LIMITS"] = {"write": "100/minute", "write_attempt": "100/minute"}
    message = {"category": "complaint", "name": "张建华", "phone": "13985012345",
               "content": "小区门口的路灯坏了一个月，晚上出行很不方便，请尽快修复。"}
    answers = _post_together(served, None, "form-5f3a", [message] * CLIENTS,
                             path="/api/v1/public/messages")
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 200: CLIENTS - 1}, [r.text for r in answers if r.status_code >= 500]
    assert len({r.json()["number"] for r in answers}) == 1
    assert _cases() == 1
