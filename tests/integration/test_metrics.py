"""Prometheus metrics at /metrics: what a centre's monitoring reads, and who may read it."""

from __future__ import annotations

from typing import Any

import pytest

from hotline import create_app
from hotline.extensions import db
from tests.conftest import _empty_tables


@pytest.fixture
def app(_migrated: dict[str, Any], redis_url: str):
    from hotline.seed import seed_demo

    app = create_app({**_migrated, "REDIS_URL": redis_url})
    with app.app_context():
        _empty_tables()
        seed_demo()
        yield app
        db.session.remove()


def scrape(api, **kw) -> str:
    resp = api.client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.data[:200]
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    return resp.get_data(as_text=True)


def value(text: str, series: str, missing: float | None = None) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    if missing is not None:
        return missing
    raise AssertionError(f"{series} not in the metrics")


def test_metrics_count_requests_by_route_and_show_the_queues_outbox_and_cases(
        api, tokens, new_case, redis_client):
    case = new_case()
    number = case["number"]
    before = scrape(api)
    for _ in range(3):
        assert api.get(f"/cases/{number}", tokens.operator).status_code == 200
    assert api.get("/cases/ZT20991231-9999", tokens.operator).status_code == 404
    api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-hrss"})
    text = scrape(api)

    route = 'method="GET",route="/api/v1/cases/<number>"'
    ok = f'hotline_http_requests_total{{{route},status="200"}}'
    assert value(text, ok) - value(before, ok, missing=0) == 3
    assert value(text, f'hotline_http_requests_total{{{route},status="404"}}') >= 1
    assert value(text, f'hotline_http_request_duration_seconds_count{{{route}}}') >= 4
    assert number not in text  # routes, never URLs
    assert value(text, 'hotline_cases_received_total{line="zhitongche"}') == 1
    assert value(text, 'hotline_cases_overdue{line="zhitongche"}') == 0
    assert value(text, 'hotline_outbox_messages{status="pending"}') == 1  # the dispatch SMS
    assert value(text, 'hotline_outbox_messages{status="dead"}') == 0
    assert value(text, "hotline_outbox_due_messages") == 1
    assert value(text, 'hotline_queue_jobs{queue="notifications"}') >= 0
    assert value(text, "hotline_workers_alive") == 0  # no worker runs in this test
    assert value(text, 'hotline_scrape_errors{source="database"}') == 0
    assert value(text, 'hotline_scrape_errors{source="redis"}') == 0


def test_metrics_are_for_loopback_or_the_metrics_token_only(app, api):
    assert api.client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    away = api.client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert away.status_code == 404
    proxied = api.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404  # a reverse proxy on this machine makes no one local

    app.config["METRICS_TOKEN"] = "m-7f3c1a"
    assert api.client.get("/metrics").status_code == 404
    assert api.client.get("/metrics", headers={"Authorization": "Bearer wrong"}
                          ).status_code == 404
    remote = api.client.get("/metrics", headers={"Authorization": "Bearer m-7f3c1a"},
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 200 and b"hotline_outbox_messages" in remote.data


def test_a_source_that_does_not_answer_is_said_and_the_rest_still_shown(app, api,
                                                                       redis_server):
    with redis_server.down():
        text = scrape(api)
    assert value(text, 'hotline_scrape_errors{source="redis"}') == 1
    assert value(text, 'hotline_scrape_errors{source="database"}') == 0
    assert "hotline_outbox_due_messages" in text
