"""The blueprint of Twilio's webhooks, under /channels/twilio, and what every one of them shares:
a small body limit, form fields read with their limits, and the writers' lock for those that
write."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, request

from hotline import inbox
from hotline.domain.errors import ValidationFailed

bp = Blueprint("twilio", __name__, url_prefix="/channels/twilio")


@bp.before_request
def _limit_body() -> None:
    # Twilio's webhooks are a few hundred bytes of form; a big body is not Twilio.
    request.max_content_length = current_app.config["PHONE_MAX_BODY"]


def field(name: str, *, required: bool = False, size: int = 64) -> str | None:
    """A form field of the webhook, stripped; a required one missing is a 400."""
    value = (request.form.get(name) or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"{name} is missing", {name: ["Missing data for required field."]})
        return None
    if len(value) > size:
        raise ValidationFailed(f"{name} is too long", {name: [f"Longer than {size} characters."]})
    return value


def number(name: str) -> int | None:
    """A whole-number form field (QueueTime, RecordingDuration...); None when absent or garbled."""
    value = (request.form.get(name) or "").strip()
    try:
        return max(int(float(value)), 0) if value else None
    except ValueError:
        return None


def writes_first(view: Callable) -> Callable:
    """A webhook that writes (after its signature is checked: `twilio_webhook` above it).

    On SQLite it holds the writers' lock as a webhook, ahead of the workers, from its first
    statement to its answer, every commit of the view under it (`inbox.serialized_writes`
    across commits): its writes never wait in SQLite's sleep-and-retry behind a worker's, and a
    worker's batch commits early to let it in. Nothing changes on PostgreSQL."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        with inbox.serialized_writes(answering=True, across_commits=True):
            return view(*args, **kwargs)

    return wrapper
