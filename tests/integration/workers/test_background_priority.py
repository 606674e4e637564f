"""Background work gives way: a job of the reports queue (a bulletin and its charts, training
the topic model) runs at a lower CPU priority than the outbox and intake's jobs, so that on a
busy machine the citizens' messages and the staff's screens do not wait for a chart; and a
citizen's message already acknowledged (the inbox) gives way to the web workers answering the
next webhooks."""

from __future__ import annotations

import os

from rq import Queue

from hotline.queue import BACKGROUND_NICENESS, QUEUE_NAMES, QUEUE_NICENESS
from workers.worker import HotlineWorker


def niceness() -> int:
    """The job's own CPU priority (nice value)."""
    return os.nice(0)


def test_a_reports_job_runs_at_a_lower_priority_than_an_outbox_job(app, redis_client):
    background = Queue("reports", connection=redis_client).enqueue(niceness)
    foreground = Queue("default", connection=redis_client).enqueue(niceness)
    HotlineWorker(list(QUEUE_NAMES), connection=redis_client).work(burst=True)

    assert foreground.return_value() == os.nice(0)  # as the worker itself
    assert background.return_value() == min(19, os.nice(0) + BACKGROUND_NICENESS)
    assert os.nice(0) == foreground.return_value()  # the worker's own priority is unchanged


def test_an_inbox_job_runs_below_the_web_workers_and_above_the_reports(app, redis_client):
    inbox = Queue("inbox", connection=redis_client).enqueue(niceness)
    report = Queue("reports", connection=redis_client).enqueue(niceness)
    HotlineWorker(list(QUEUE_NAMES), connection=redis_client).work(burst=True)

    assert inbox.return_value() == min(19, os.nice(0) + QUEUE_NICENESS["inbox"])
    assert report.return_value() == min(19, os.nice(0) + BACKGROUND_NICENESS)
    assert 0 < QUEUE_NICENESS["inbox"] < BACKGROUND_NICENESS
