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

from hotline import logs, warm_up
from hotline.extensions import db
from hotline.queue import QUEUE_NAMES, redis_connection, worker_ttl

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

    The child must not reuse the parent's database connections (a socket shared across fork
    is corrupted by whichever process speaks first), so its pool is dropped, unclosed.
    """

    #: Jobs that route messages: before the first of them the worker itself loads what routing
    #: reads (`hotline.warm_up`), so that each job's child has it instead of loading it again.
    #: Not at the worker's start: a restarted worker relays the outbox at once.
    WARM_JOBS = frozenset({"workers.jobs.process_inbox"})
    warmed = False

    def execute_job(self, job: Any, queue: Any) -> None:
        if not self.warmed and job.func_name in self.WARM_JOBS and jobs._app is not None:
            warm_up(jobs._app)
            HotlineWorker.warmed = True  # for the workers started again after a Redis outage
        super().execute_job(job, queue)

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
    logs.configure_logging("worker")
    jobs.use_app(app)
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
