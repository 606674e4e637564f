"""The Redis connection and RQ queues, configured from REDIS_URL."""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue

QUEUE_NAMES = ("default", "notifications", "reports")


def redis_connection(app: Flask, timeout: float | None = 5) -> Redis:
    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def queue(app: Flask, name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection(app))
