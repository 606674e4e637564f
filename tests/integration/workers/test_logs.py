"""What the workers write to the log: nothing at INFO for periodic work that found nothing to
do, one line per message sent or failed (never the number or the text), in JSON on request."""

from __future__ import annotations

import re

from redis import Redis
from rq import Queue

from workers import jobs

from .conftest import outbox, work


def relay_tick(app) -> None:
    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        Queue("default", connection=connection).enqueue(jobs.relay_outbox)
    work(app)


def _shapes(lines: list[dict]) -> list[str]:
    return sorted(re.sub(r"[0-9a-f]{32}|\d+", "#", line["message"]) for line in lines)


def test_idle_relay_tick_logs_nothing_at_info(app, json_log):
    work(app)  # a burst worker with nothing to do: only its own start and stop
    lifecycle = json_log()
    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        for _ in range(3):
            Queue("default", connection=connection).enqueue(jobs.relay_outbox)
    work(app)  # the same, running three relay passes that find nothing

    ticks = json_log()[len(lifecycle):]
    assert _shapes(ticks) == _shapes(lifecycle), [t["message"] for t in ticks]


def test_each_message_sent_is_one_info_line_with_case_channel_and_outbox_id(
        new_case, step, app, json_log, fake_twilio):
    case = new_case(citizen={"name": "王建国", "phone": "13985012345"})
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    work(app)
    relay_tick(app)

    [row] = outbox(case["number"])
    assert row.status == "sent" and len(fake_twilio.messages) == 1
    # Beside the burst workers' own start and stop lines:
    worker_lines = [line for line in json_log()
                    if not line["logger"].startswith(("rq.", "hotline.requests"))]
    assert [(w["level"], w["outbox_id"], w["case"], w["channel"], w["outcome"])
            for w in worker_lines] == [("INFO", row.id, case["number"], "sms", "sent")]
    assert worker_lines[0]["request_id"]  # the RQ job's id
    text = str(json_log())
    assert "13985012345" not in text and row.text[:12] not in text


def test_failed_send_is_one_warning_line_without_the_number(
        new_case, step, app, json_log, fake_twilio):
    fake_twilio.fail_next(status=400, code=21211, path="Messages.json",
                          message="The 'To' number +8613985012345 is not a valid phone number.")
    case = new_case(citizen={"name": "王建国", "phone": "13985012345"})
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    work(app)

    [line] = [w for w in json_log() if w["logger"] == "workers.relay"]
    assert (line["level"], line["outcome"], line["case"], line["channel"]) == \
        ("WARNING", "dead", case["number"], "sms")
    assert "is not a valid phone number" in line["message"]
    assert "13985012345" not in str(json_log())
