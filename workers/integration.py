"""How the workers plug into the app (`hotline.wiring` calls `init_app`): the fast path that
queues outbox messages as soon as the transaction that wrote them commits. (What the workers
send after each step is written by the handlers listed in `hotline.wiring.EVENT_HANDLERS`; their
periodic jobs are `workers.schedule.periodic_jobs`.)"""

from __future__ import annotations

from flask import Flask

from . import relay


def init_app(app: Flask) -> None:
    relay.listen_for_commits()
