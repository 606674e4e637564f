"""How the workers plug into the app (`create_app` calls `init_app`): the follow-up hook and the
department notices after every lifecycle action, and the fast path that queues outbox messages as soon as the
transaction that wrote them commits."""

from __future__ import annotations

from flask import Flask

from hotline import followup, services

from . import department_notices, relay


def init_app(app: Flask) -> None:
    # create_app runs many times in one process (tests): register each hook once.
    if followup.on_action not in services.after_action_hooks:
        services.after_action_hooks.append(followup.on_action)
    if department_notices.on_action not in services.after_action_hooks:
        services.after_action_hooks.append(department_notices.on_action)
    relay.listen_for_commits()
