"""The domain events of a case: what the core announces after a step, for the handlers that
`hotline.wiring.EVENT_HANDLERS` lists to follow it up.

An event is announced inside the step's transaction, before it commits; its handlers write
rows (a routing decision, outbox messages, a survey) that commit with the step or not at all.
Each event carries the step's moment (`at`): a handler stamps what it writes with it, not with
the wall clock, so a step logged with an earlier moment (an import, the demo's history) has
its follow-up at that moment too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .domain import lifecycle
from .domain.lifecycle import Actor
from .models import Case


@dataclass(frozen=True)
class CaseCreated:
    """A case was logged (受理登记) by `services.create_case`."""

    case: Case
    actor: Actor
    at: dt.datetime


@dataclass(frozen=True)
class ActionTaken:
    """A lifecycle action was taken on a case (`services.apply_action`), or a case merged into
    another was closed with its lead's answer (`services.close_merged_cases`, actor SYSTEM)."""

    case: Case
    step: lifecycle.Event
    actor: Actor
    at: dt.datetime
