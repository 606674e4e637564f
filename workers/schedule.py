"""Every periodic job, declared in one place (like Redash's tasks/schedule.py):
`periodic_jobs(app)` lists them all, each with the condition under which it runs.

`hotline worker` runs them on RQ's cron scheduler (`rq.cron.CronScheduler`) in a child process.
With several workers, each has a scheduler but only the one holding a Redis lease enqueues, so
a job is not queued once per worker; if that worker dies, another takes over within the lease.
The jobs themselves are idempotent, so an extra run (a lease changing hands) is harmless.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
import uuid
from dataclasses import dataclass

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler
from rq.exceptions import SchedulerNotFound, StopRequested

from hotline.wiring import wired

from .settings import setting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job run every `interval` seconds (or a setting naming the seconds), or on `cron`."""

    func: str  # dotted path of the job function
    queue: str = "default"
    interval: int | None = None
    interval_setting: str | None = None
    cron: str | None = None  # crontab line, read in the server's local time
    timeout: int = 600

    def seconds(self, app: Flask) -> int | None:
        if self.interval_setting:
            return int(setting(app, self.interval_setting))
        return self.interval


# How often the areas' jobs run. Media and recordings: fetched within the minute, well inside
# WeChat's 3 days and before anyone opens the case page. Bulletins: hourly, so a bulletin is
# written within the hour after its period ends, and a worker that was down catches up when it
# is back (the job writes only what is missing). The topic model: weekly, Sunday 03:00
# (ROUTING_RETRAIN_CRON to change it, "" for never).
FETCH_INTERVAL = 60
BULLETIN_INTERVAL = 3600
RETRAIN_CRON = "0 3 * * 0"


def periodic_jobs(app: Flask) -> list[Periodic]:
    """Every periodic job of this app, in one list; an area's jobs run when it is wired
    (`hotline.wiring`)."""
    jobs = [
        # The outbox relay: due messages to the send queue, cut-off attempts taken back.
        Periodic("workers.jobs.relay_outbox", interval_setting="RELAY_INTERVAL", timeout=120),
        # Reminders, escalations and points (one indexed query per kind; cheap to run often,
        # so a deadline passing at midnight is escalated within minutes).
        Periodic("workers.jobs.sweep_deadlines", interval_setting="SWEEP_INTERVAL",
                 timeout=1800),
        # Surveys unanswered after SURVEY_REMIND_AFTER_HOURS get one reminder.
        Periodic("workers.jobs.remind_unanswered_surveys",
                 interval_setting="SURVEY_REMINDER_INTERVAL", timeout=600),
    ]
    if wired("wechat", app):
        # Citizens' pictures and voice, fetched from WeChat for the case page.
        jobs.append(Periodic("channels.wechat.media.fetch_pending_media",
                             interval=FETCH_INTERVAL, timeout=600))
    if wired("phone", app):
        # Cases' call recordings, fetched from Twilio for the case page's player.
        jobs.append(Periodic("channels.phone.recordings.fetch_pending_recordings",
                             interval=FETCH_INTERVAL, timeout=600))
    if wired("reports", app):
        # The weekly, monthly and quarterly bulletins (BULLETIN_KINDS) once their period ends.
        jobs.append(Periodic("hotline.reports.jobs.bulletin_schedule", queue="reports",
                             interval=BULLETIN_INTERVAL))
    retrain = app.config.get("ROUTING_RETRAIN_CRON", RETRAIN_CRON)
    if wired("routing", app) and retrain:
        # A new topic model from the cases staff corrected since the last one.
        jobs.append(Periodic("routing.jobs.retrain_topic_model", queue="reports", cron=retrain,
                             timeout=3600))
    return jobs


def _resolve(path: str) -> object | None:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        logger.warning("periodic job %s not found; skipped", path)
        return None


def register(app: Flask, scheduler: CronScheduler) -> list[CronJob]:
    """Register every periodic job with `scheduler`; returns the registered cron jobs."""
    jobs = []
    for entry in periodic_jobs(app):
        func = _resolve(entry.func)
        if func is None:
            continue
        jobs.append(scheduler.register(
            func, entry.queue, interval=entry.seconds(app), cron=entry.cron,
            job_timeout=entry.timeout, result_ttl=3600, failure_ttl=7 * 86400,
            name=entry.func))
    return jobs


# Take or renew the lease if it is free or already ours.
_LEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""


class HotlineCronScheduler(CronScheduler):
    """RQ's cron scheduler, with a lease so one scheduler enqueues at a time, surviving Redis
    outages (it waits instead of exiting) and stopping when its worker process is gone."""

    LEASE_KEY = "hotline:cron:leader"
    LEASE_SECONDS = 30
    #: Sleep at most this long, to renew the lease and notice the worker's death in time.
    MAX_SLEEP = 5.0

    def __init__(self, connection: Redis, parent_pid: int | None = None,
                 lease_seconds: int | None = None, **kwargs: object):
        super().__init__(connection, **kwargs)
        if lease_seconds:
            self.LEASE_SECONDS = lease_seconds
        self.token = f"{self.name}:{uuid.uuid4().hex[:8]}"
        self.parent_pid = parent_pid
        self._lease = connection.register_script(_LEASE)
        self.leading = False
        self._outage_logged = False

    def hold_lease(self) -> bool:
        was = self.leading
        self.leading = bool(self._lease(keys=[self.LEASE_KEY],
                                        args=[self.token, self.LEASE_SECONDS * 1000]))
        self._outage_logged = False  # Redis answered
        if self.leading and not was:
            logger.info("cron scheduler %s now enqueues the periodic jobs", self.name)
        return self.leading

    def enqueue_jobs(self) -> list[CronJob]:
        try:
            if not self.hold_lease():
                return []
            return super().enqueue_jobs()
        except RedisError as exc:
            if self.leading or not self._outage_logged:
                logger.warning("cron scheduler: Redis unavailable (%s); waiting", exc)
            self.leading = False
            self._outage_logged = True
            return []

    def save(self, pipeline: object = None) -> None:
        try:
            super().save(pipeline)  # type: ignore[arg-type]
        except RedisError:
            pass  # monitoring data only

    def heartbeat(self) -> None:
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            raise StopRequested()  # the worker that started us is gone
        try:
            super().heartbeat()
        except RedisError:
            pass

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), self.MAX_SLEEP)

    def register_death(self, pipeline: object = None) -> None:
        try:
            if self.connection.get(self.LEASE_KEY) == self.token.encode():
                self.connection.delete(self.LEASE_KEY)  # the next scheduler need not wait
            super().register_death(pipeline)  # type: ignore[arg-type]
        except (RedisError, SchedulerNotFound):
            pass


def run_scheduler(app: Flask, url: str, parent_pid: int | None = None) -> None:
    """The scheduler process: register the periodic jobs and loop until stopped; a Redis that
    is down when it starts is waited for."""
    connection = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    while parent_pid is None or os.getppid() == parent_pid:
        scheduler = HotlineCronScheduler(connection, parent_pid=parent_pid,
                                         lease_seconds=setting(app, "CRON_LEASE_SECONDS"))
        register(app, scheduler)
        try:
            scheduler.start()
            return
        except RedisError as exc:
            logger.warning("cron scheduler cannot reach Redis (%s); retrying", exc)
            time.sleep(2)
