"""The RQ worker process: the queues of hotline.queue, with RQ's scheduler for delayed jobs and
the periodic jobs declared in workers/schedule.py."""

from __future__ import annotations

from flask import Flask
from rq import Worker

from hotline.queue import QUEUE_NAMES, redis_connection


def run_worker(app: Flask, burst: bool = False) -> None:
    connection = redis_connection(app, timeout=None)
    with app.app_context():
        from . import schedule

        schedule.register(app, connection)
        worker = Worker([*QUEUE_NAMES], connection=connection)
        worker.work(with_scheduler=True, burst=burst)
