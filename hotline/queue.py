"""The Redis connection and RQ queues, configured from REDIS_URL."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from redis import Redis
from rq import Queue

#: A worker takes the next job from the first of these queues that has one: the citizens'
#: messages in the inbox before the periodic jobs (which a worker's start queues all at once,
#: and which the first message after a start would otherwise wait behind), the sends, reports.
QUEUE_NAMES = ("inbox", "default", "notifications", "reports")

#: Queues of long background work (bulletins with their charts, training the topic model): a
#: job from one runs at this much lower CPU priority (nice), so that intake, the staff console
#: and the outbox, on the same machine, are not slowed while it draws or trains.
BACKGROUND_QUEUES = frozenset({"reports"})
BACKGROUND_NICENESS = 10
#: The citizens' messages (`inbox`) run a little lower than the web processes too: each was
#: acknowledged already and its reply may come a moment later, while the next webhook must be
#: answered within WeChat's 5 s (else WeChat retries and tells the citizen the service is
#: unavailable). Under a burst the web workers get the CPU first; the worker catches up.
QUEUE_NICENESS = {"inbox": 5} | dict.fromkeys(BACKGROUND_QUEUES, BACKGROUND_NICENESS)


def redis_connection(app: Flask, timeout: float | None = 5) -> Redis:
    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def queue(app: Flask, name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection(app))


#: Seconds within which a live worker is heard from (RQ's worker_ttl): an idle worker reports
#: every WORKER_TTL - 15 s (at least every second), a busy one every WORKER_TTL / 4 s, and a
#: worker silent for longer counts as dead (`/readyz?deep=1`, the metrics).
WORKER_TTL = 20


def worker_ttl(app: Flask) -> int:
    """WORKER_TTL from the app's configuration (or the environment), else the default."""
    return int(app.config.get("WORKER_TTL") or WORKER_TTL)


def worker_heartbeats(connection: Redis) -> dict[str, float]:
    """Each registered RQ worker's name and the seconds since it was last heard from."""
    from rq import Worker

    now = dt.datetime.now(dt.UTC)
    ages = {}
    for worker in Worker.all(connection=connection):
        beat = worker.last_heartbeat
        if beat is None:
            continue
        if beat.tzinfo is None:
            beat = beat.replace(tzinfo=dt.UTC)
        ages[worker.name] = max(0.0, (now - beat).total_seconds())
    return ages
