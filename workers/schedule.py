"""Every periodic job, declared in one place (like Redash's tasks/schedule.py).

`register` is called when a worker starts; each entry runs on RQ's cron scheduler.
"""

from __future__ import annotations

from flask import Flask
from redis import Redis

# (function path, interval in seconds, queue) — jobs are added by the areas that own them.
PERIODIC: list[tuple[str, int, str]] = []


def register(app: Flask, connection: Redis) -> None:
    """Nothing to schedule until the supervision sweeps exist."""
    return
