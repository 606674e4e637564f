"""The RQ worker process (`hotline worker`): the queues of hotline.queue, RQ's scheduler for
delayed jobs, and a child process running the periodic jobs of workers/schedule.py.

A Redis outage does not end it: RQ's worker quits when Redis stops answering, so the worker is
started again (with backoff) until Redis is back. Only SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import gc
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

from hotline import logs, warm_up
from hotline.extensions import db
from hotline.queue import (
    QUEUE_NAMES,
    QUEUE_NICENESS,
    redis_connection,
    worker_ttl,
)
from hotline.warmup import refresh

from . import jobs, schedule

logger = logging.getLogger(__name__)


class _StopAware:
    """Remembers that a stop was asked for, whatever state the worker was in; and ends in
    well under a second.

    RQ listens for its commands (stop a job, shut down) on a pub/sub thread that wakes every
    60 s, and a stopping worker waits for that thread: every worker's end — each `--burst`
    run, each shutdown of `hotline run` — took a minute. This thread wakes twice a second.
    """

    stop_asked = False
    PUBSUB_WAKE_SECONDS = 0.5

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[misc]

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()  # type: ignore[attr-defined]
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.PUBSUB_WAKE_SECONDS, daemon=True,
            exception_handler=self._pubsub_exception_handler)  # type: ignore[attr-defined]


class HotlineWorker(_StopAware, Worker):
    """RQ's forking worker: each job runs in a child (a crash or a leak ends with the job).

    What a child loads dies with it, so the worker itself holds what jobs need: loaded as it
    starts (`run_worker`: `hotline.warm_up`) and brought up to date before each child is
    forked (`hotline.warmup.refresh`: a new topic model, a changed rule), so that no child
    loads the router or the model itself.

    The child must not reuse the parent's database connections (a socket shared across fork
    is corrupted by whichever process speaks first), so its pool is dropped, unclosed; the
    parent closes what it opened to bring itself up to date. A child working a background
    queue's job runs at a lower CPU priority (hotline.queue).
    """

    def execute_job(self, job: Any, queue: Any) -> None:
        app = jobs._app
        if app is not None:
            try:
                refresh(app)
            except Exception:  # the child loads what is missing, as without a refresh
                logger.exception("could not bring the worker up to date before a job")
            _close_connections(app)
        super().execute_job(job, queue)

    def main_work_horse(self, job: Any, queue: Any) -> None:
        if QUEUE_NICENESS.get(queue.name):
            os.nice(QUEUE_NICENESS[queue.name])
        app = jobs._app
        if app is not None:
            with app.app_context():
                db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def _close_connections(app: Flask) -> None:
    """Close the database connections this process holds idle (none, mostly: only a refresh
    that rebuilt something opened one)."""
    with app.app_context():
        pool = db.engine.pool
        if getattr(pool, "checkedin", lambda: 1)():
            db.engine.dispose()


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
    logs.configure_logging("worker")
    jobs.use_app(app)
    # Loaded before the first job (and before the scheduler's process is forked): each job's
    # child starts with it. What was loaded is kept out of the collector's passes, which
    # would otherwise copy its pages into every child.
    warm_up(app)
    _close_connections(app)
    gc.collect()
    gc.freeze()
    worker_class = HotlineSimpleWorker if simple else HotlineWorker
    scheduler = None if burst else start_scheduler(app)
    ttl = worker_ttl(app)
    wait = 1.0
    try:
        while True:
            started = time.monotonic()
            worker = None
            try:
                # Heard from every few seconds, idle or busy, so that a dead or hung worker
                # shows on /readyz?deep=1 within WORKER_TTL.
                worker = worker_class([*QUEUE_NAMES],
                                      connection=redis_connection(app, timeout=None),
                                      worker_ttl=ttl, job_monitoring_interval=max(1, ttl // 4))
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
