"""What the conversation answers one message with (`Outcome`), and the actor it writes as."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.lifecycle import Actor
from hotline.models import Case

CITIZEN = Actor(name="citizen:wechat", role="citizen")


@dataclass
class Outcome:
    reply: str
    intent: str
    case: Case | None = None
