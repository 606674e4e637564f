"""Settings of the follow-up and supervision workers, with their defaults.

Each comes from the app's configuration (tests, `create_app(config)`), else from the environment
(a `hotline worker` started by an operator or a test), else the default below. The outward
senders' optional settings (TWILIO_API_BASE, WECHAT_TEMPLATE_ID, …, see
`channels.senders.build_senders`) are read the same way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from hotline.config import setting as config_setting

DEFAULTS: dict[str, Any] = {
    # Points (积分) a department loses: for a case past its answer deadline, more when it had been
    # reminded (催办) first, and for a case not signed for in time.
    "POINTS_OVERDUE": -2,
    "POINTS_OVERDUE_AFTER_REMINDER": -5,
    "POINTS_ACCEPT_OVERDUE": -1,
    # An unanswered survey (回访) is asked once more after this long (when it first goes out:
    # hotline.followup.SURVEY_DELAY_MINUTES).
    "SURVEY_REMIND_AFTER_HOURS": 72,
    # Outbox delivery: attempts before a message is dead, backoff between them (doubling from
    # the base, capped), how long an attempt may run before the row counts as abandoned, and
    # how long a row sits on an RQ queue before the relay queues it again.
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_SECONDS": 30,
    "OUTBOX_BACKOFF_MAX_SECONDS": 3600,
    "OUTBOX_SENDING_LEASE_SECONDS": 120,
    "OUTBOX_RELAY_LEASE_SECONDS": 300,
    # Rows younger than this were queued straight after their commit; the relay leaves them.
    "OUTBOX_RELAY_GRACE_SECONDS": 10,
    "OUTBOX_RELAY_BATCH": 2000,
    # An inbound message still to do this long after its job was queued is queued again (its
    # job was lost with Redis, or it failed and waits for another try).
    "INBOX_RELAY_LEASE_SECONDS": 60,
    # Periodic jobs (workers/schedule.py), in seconds.
    "RELAY_INTERVAL": 10,
    "SWEEP_INTERVAL": 300,
    "SURVEY_REMINDER_INTERVAL": 900,
    # How long a scheduler that died keeps the others from enqueueing the periodic jobs.
    "CRON_LEASE_SECONDS": 30,
}

SENDER_KEYS = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "TWILIO_FROM_NUMBER",
    "TWILIO_STATUS_CALLBACK_URL", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE",
    "WECHAT_TEMPLATE_ID", "WECHAT_TEMPLATE_FIELD", "SENDER_TIMEOUT",
    "SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
)


def setting(app: Flask, name: str) -> Any:
    """One setting, converted to the type of its default (hotline.config.setting)."""
    return config_setting(name, DEFAULTS[name], config=app.config)


def sender_config(app: Flask) -> dict[str, Any]:
    """The configuration `build_senders` reads: the app's, completed from the environment."""
    return {key: config_setting(key, config=app.config) for key in SENDER_KEYS}
