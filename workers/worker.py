"""The RQ worker process (`hotline worker`): the queues of hotline.queue, RQ's scheduler for
delayed jobs, and a child process running the periodic jobs of workers/schedule.py.

A Redis outage does not end it: RQ's worker quits when Redis stops answering, so the worker is
started again (with backoff) until Redis is back. Only SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from typing import Any

from flask import Flask
from redis.exceptions import RedisError
from rq import SimpleWorker, Worker
from rq.exceptions import StopRequested

from hotline.extensions import db
from hotline.queue import QUEUE_NAMES, redis_connection

from . import jobs, schedule

logger = logging.getLogger(__name__)


class _StopAware:
    """Remembers that a stop was asked for, whatever state the worker was in."""

    stop_asked = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[misc]


class HotlineWorker(_StopAware, Worker):
    """RQ's forking worker: each job runs in a child (a crash or a leak ends with the job).

    The child must not reuse the parent's database connections (a socket shared across fork
    is corrupted by whichever process speaks first), so its pool is dropped, unclosed.
    """

    def main_work_horse(self, job: Any, queue: Any) -> None:
        app = jobs._app
        if app is not None:
            with app.app_context():
                db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


class HotlineSimpleWorker(_StopAware, SimpleWorker):
    """Runs jobs in the worker process itself (no fork): faster, less isolated."""


def start_scheduler(app: Flask) -> multiprocessing.Process:
    """The periodic jobs' scheduler, in a child process that ends when this one does."""
    context = multiprocessing.get_context("fork")
    process = context.Process(target=schedule.run_scheduler,
                              args=(app, app.config["REDIS_URL"], os.getpid()),
                              name="hotline-cron", daemon=True)
    process.start()
    return process


def _stop(signum: int, frame: Any) -> None:
    raise StopRequested()


def run_worker(app: Flask, burst: bool = False, simple: bool = False) -> None:
    """Work off the queues (and run the schedule) until stopped; with `burst`, until empty."""
    jobs.use_app(app)
    worker_class = HotlineSimpleWorker if simple else HotlineWorker
    scheduler = None if burst else start_scheduler(app)
    wait = 1.0
    try:
        while True:
            started = time.monotonic()
            worker = None
            try:
                worker = worker_class([*QUEUE_NAMES],
                                      connection=redis_connection(app, timeout=None))
                worker.work(with_scheduler=True, burst=burst)
            except RedisError as exc:
                logger.warning("worker stopped by a Redis error: %s", exc)
            except StopRequested:
                break
            if burst or (worker is not None and worker.stop_asked):
                break
            if time.monotonic() - started > 60:
                wait = 1.0  # a new outage, not the same one continuing
            logger.warning("Redis unavailable; starting the worker again in %.0f s", wait)
            # The old worker's signal handlers would talk to the Redis that is down.
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            time.sleep(wait)
            wait = min(wait * 2, 30.0)
    except StopRequested:
        pass
    finally:
        if scheduler is not None and scheduler.is_alive():
            scheduler.terminate()
            scheduler.join(10)
