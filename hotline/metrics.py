"""Prometheus metrics at `GET /metrics`, for the centre's monitoring.

Two kinds:

- Counted by the web processes as requests are answered:
  `hotline_http_requests_total{method,route,status}` and
  `hotline_http_request_duration_seconds{method,route}` (a histogram). `route` is the URL rule
  (`/api/v1/cases/<number>`), never the URL itself, so case numbers and tokens stay out and the
  number of series stays small; a URL that matched no rule counts as `unmatched`.
- Read from the database and Redis at each scrape, so every web process gives the same figures:
  RQ queue depths (`hotline_queue_jobs{queue}`), the outbox by status
  (`hotline_outbox_messages{status}`: `dead` is the dead letters), how many messages are due
  and how long the oldest has waited (`hotline_outbox_due_messages`,
  `hotline_outbox_oldest_due_seconds`), cases received and overdue now by line
  (`hotline_cases_received_total{line}`, `hotline_cases_overdue{line}` — 超期未答复 as the
  reports count it), and each RQ worker's seconds since its last heartbeat
  (`hotline_worker_heartbeat_age_seconds{worker}`, `hotline_workers_alive`).

Several gunicorn processes: with PROMETHEUS_MULTIPROC_DIR set (an empty folder, emptied
before the server starts; `hotline run` uses `instance/metrics`), each process writes its
counts there and a scrape adds them up (prometheus-client's multiprocess mode). Without it,
each process counts its own requests only.

Who may read it: with METRICS_TOKEN configured, a request bearing
`Authorization: Bearer <METRICS_TOKEN>`; without it, only a request made to the server on
loopback directly (remote address 127.0.0.1 or ::1 and no X-Forwarded-For: a reverse proxy
on the same machine does not make a stranger local). Anyone else gets 404, as for a page that
is not there.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .warmup import unseen

REQUESTS = Counter("hotline_http_requests", "HTTP requests answered, by route and status.",
                   ["method", "route", "status"])
LATENCY = Histogram("hotline_http_request_duration_seconds",
                    "Seconds from a request's arrival to its answer, by route.",
                    ["method", "route"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120))
LOOPBACK = ("127.0.0.1", "::1")


def init_app(app: Flask) -> None:
    """Count every request and serve `/metrics`."""
    app.before_request(_started)
    app.after_request(_answered)
    app.add_url_rule("/metrics", "metrics", metrics_view)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _answered(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None and request.endpoint != "metrics":
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        count = REQUESTS.labels(request.method, rule, str(response.status_code))
        duration = LATENCY.labels(request.method, rule)
        # A settling web worker's own request (hotline.warmup) makes its route's series ready
        # for the first client's, uncounted: a scrape shows a series once it has counted one.
        if not unseen():
            count.inc()
            duration.observe(time.perf_counter() - started)
    return response


def may_read_metrics() -> bool:
    """The rule of who may read /metrics (see the module's docstring)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


def metrics_view() -> Response:
    if not may_read_metrics():
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY  # this process's own counts
    body = generate_latest(_Counted(registry)) + generate_latest(_state_registry(current_app))
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST,
                                   "Cache-Control": "no-store"})


class _Counted(Collector):
    """The request metrics of `registry` without the series that have counted no request yet
    (made ready by a settling web worker's own requests, see `_answered`)."""

    def __init__(self, registry: Any):
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        for metric in self.registry.collect():
            total = _COUNTED_BY.get(metric.name)
            if total is not None:
                counted = {_series(s) for s in metric.samples if s.name == total and s.value}
                metric.samples = [s for s in metric.samples if _series(s) in counted]
            yield metric


# The sample of each request metric that says how many requests a series counted.
_COUNTED_BY = {"hotline_http_requests": "hotline_http_requests_total",
               "hotline_http_request_duration_seconds":
                   "hotline_http_request_duration_seconds_count"}


def _series(sample: Any) -> tuple:
    return tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))


def _state_registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(app))
    return registry


class StateCollector(Collector):
    """The figures read at scrape time from the database and Redis. A source that does not
    answer leaves its figures out (and `hotline_scrape_errors{source}` says which)."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[Any]:
        errors = GaugeMetricFamily("hotline_scrape_errors",
                                   "1 when a source could not be read at this scrape.",
                                   labels=["source"])
        for source, read in (("database", self._database), ("redis", self._redis)):
            try:
                yield from read()
                errors.add_metric([source], 0)
            except Exception:  # noqa: BLE001 - a scrape must answer; it says what failed
                errors.add_metric([source], 1)
                if source == "database":
                    from .extensions import db

                    db.session.rollback()
        yield errors

    def _database(self) -> Iterator[Any]:
        from sqlalchemy import func, select

        from .extensions import db
        from .models import Case, Line
        from .models.types import utcnow
        from .outbox import backlog
        from .reports.scope import overdue_condition

        state = backlog()
        by_status = GaugeMetricFamily("hotline_outbox_messages",
                                      "Outbox messages by status (dead: the dead letters).",
                                      labels=["status"])
        for status in ("pending", "sending", "failed", "sent", "dead", "unknown", "cancelled"):
            by_status.add_metric([status], state.by_status.get(status, 0))
        yield by_status
        yield GaugeMetricFamily("hotline_outbox_due_messages",
                                "Outbox messages due to be sent now.", value=state.due)
        yield GaugeMetricFamily("hotline_outbox_oldest_due_seconds",
                                "How long the oldest due outbox message has waited.",
                                value=state.oldest_due_seconds)

        lines = dict(db.session.execute(select(Line.id, Line.code)).all())
        received = CounterMetricFamily("hotline_cases_received", "Cases received, by line.",
                                       labels=["line"])
        counts = dict(db.session.execute(
            select(Case.line_id, func.count()).group_by(Case.line_id)).all())
        overdue = GaugeMetricFamily("hotline_cases_overdue",
                                    "Cases past their answer deadline and not answered, by line.",
                                    labels=["line"])
        late = dict(db.session.execute(
            select(Case.line_id, func.count()).where(overdue_condition(utcnow()))
            .group_by(Case.line_id)).all())
        for line_id, code in sorted(lines.items(), key=lambda item: item[1]):
            received.add_metric([code], counts.get(line_id, 0))
            overdue.add_metric([code], late.get(line_id, 0))
        yield received
        yield overdue

    def _redis(self) -> Iterator[Any]:
        from rq import Queue

        from .queue import QUEUE_NAMES, redis_connection, worker_heartbeats, worker_ttl

        connection = redis_connection(self.app, timeout=2)
        depth = GaugeMetricFamily("hotline_queue_jobs", "Jobs waiting on each RQ queue.",
                                  labels=["queue"])
        for name in QUEUE_NAMES:
            depth.add_metric([name], Queue(name, connection=connection).count)
        yield depth
        ages = worker_heartbeats(connection)
        beats = GaugeMetricFamily("hotline_worker_heartbeat_age_seconds",
                                  "Seconds since each RQ worker was last heard from.",
                                  labels=["worker"])
        for name, age in sorted(ages.items()):
            beats.add_metric([name], age)
        yield beats
        ttl = worker_ttl(self.app)
        yield GaugeMetricFamily("hotline_workers_alive",
                                "RQ workers heard from within WORKER_TTL seconds.",
                                value=sum(age <= ttl for age in ages.values()))
