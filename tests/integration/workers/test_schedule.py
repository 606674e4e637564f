"""The periodic jobs of workers/schedule.py on RQ's cron scheduler: all registered, enqueued by
one scheduler at a time, and run by a real RQ worker."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from workers import schedule
from workers.schedule import HotlineCronScheduler, Periodic, register

from .conftest import work

JOBS = {"workers.jobs.relay_outbox", "workers.jobs.sweep_deadlines",
        "workers.jobs.remind_unanswered_surveys"}


def scheduler(app, connection: Redis) -> HotlineCronScheduler:
    cron = HotlineCronScheduler(connection)
    register(app, cron)
    return cron


def test_every_periodic_job_is_registered_and_runs_on_a_real_worker(app, redis_client):
    cron = scheduler(app, redis_client)
    assert {job.name for job in cron.get_jobs()} >= JOBS  # other areas add theirs
    intervals = {job.name: job.interval for job in cron.get_jobs()}
    assert intervals["workers.jobs.relay_outbox"] == 10
    assert intervals["workers.jobs.sweep_deadlines"] == 300

    enqueued = cron.enqueue_jobs()
    assert {job.name for job in enqueued} >= JOBS
    queue = Queue("default", connection=redis_client)
    jobs = [j for j in queue.get_jobs() if j.func_name in JOBS]
    work(app)
    assert len(jobs) == 3
    assert all(job.get_status(refresh=True) == "finished" for job in jobs)
    sweep = next(j for j in jobs if j.func_name == "workers.jobs.sweep_deadlines")
    assert set(sweep.return_value()) >= {"remind_reply", "escalate_reply", "points_entries"}


def test_only_the_scheduler_holding_the_lease_enqueues_and_another_takes_over(app, redis_client):
    first, second = scheduler(app, redis_client), scheduler(app, redis_client)
    # Every job due now: the interval jobs at once; a cron job (the weekly retrain of the
    # routing model) only at its hour.
    everything = len([job for job in first.get_jobs() if job.should_run()])
    assert everything >= 6
    assert len(first.enqueue_jobs()) == everything
    assert second.enqueue_jobs() == []
    first.register_death()
    assert len(second.enqueue_jobs()) == everything


def test_scheduler_waits_out_a_redis_outage_instead_of_dying(app, redis_server, redis_url):
    with Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1) as connection:
        cron = scheduler(app, connection)
        with redis_server.down():
            assert cron.enqueue_jobs() == []
            cron.heartbeat()
            cron.save()
        due = [job for job in cron.get_jobs() if job.should_run()]
        assert due and len(cron.enqueue_jobs()) == len(due)


def test_jobs_are_registered_with_their_queue_interval_or_cron(app, redis_client, monkeypatch):
    monkeypatch.setattr(schedule, "periodic_jobs", lambda app: [
        Periodic("workers.jobs.relay_outbox", "reports", interval=60),
        Periodic("workers.jobs.sweep_deadlines", "reports", cron="0 7 * * 1"),
        Periodic("hotline.reports.jobs.no_such_job", "reports", interval=3600)])
    cron = HotlineCronScheduler(redis_client)
    jobs = register(app, cron)
    assert [(j.queue_name, j.interval, j.cron) for j in jobs] == \
        [("reports", 60, None), ("reports", None, "0 7 * * 1")]  # the missing one is skipped
    assert Periodic("x.y", interval_setting="SWEEP_INTERVAL").seconds(app) == 300


def test_an_areas_jobs_run_when_the_area_is_wired(app, app_config):
    from hotline import create_app

    every = {p.func: p for p in schedule.periodic_jobs(app)}
    assert set(every) == JOBS | {
        "channels.wechat.media.fetch_pending_media",
        "channels.phone.recordings.fetch_pending_recordings",
        "hotline.reports.jobs.bulletin_schedule", "routing.jobs.retrain_topic_model"}
    assert every["routing.jobs.retrain_topic_model"].cron == "0 3 * * 0"  # Sunday 03:00
    for job in every.values():  # a misspelt job would only be skipped with a warning
        assert callable(schedule._resolve(job.func)), job.func

    workers_only = create_app({**app_config, "HOTLINE_AREAS": ("workers",)})
    assert {p.func for p in schedule.periodic_jobs(workers_only)} == JOBS
    never = create_app({**app_config, "ROUTING_RETRAIN_CRON": ""})
    assert "routing.jobs.retrain_topic_model" not in {
        p.func for p in schedule.periodic_jobs(never)}
