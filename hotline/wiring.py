"""What follows what: the one place where the areas are wired into the core.

Read it from top to bottom:

- `AREAS` — the areas outside the core (routing, the workers, the channels, the reports) in
  the order `create_app` wires them; each module's `init_app(app)` adds its blueprints and
  settings. An area that fails to import stops the app with the import's own error.
- `SESSION_LISTENERS` — what watches every database transaction, whichever area writes it:
  the report figures, the change stamps of what processes keep copies of, the audit list,
  the outbox's fast path.
- `EVENT_HANDLERS` — the table of domain events (`hotline.events`) and their handlers, in the
  order they run. The core announces an event with `publish` inside the step's transaction;
  each handler writes rows (a routing decision, outbox messages, a survey) that commit with the
  step or not at all, stamped with the event's moment (`at`). A handler may take a step itself
  (routing's automatic dispatch), whose event is handled before the first one's next handler.
- `INBOX_HANDLERS` — what a message a channel's webhook acknowledged and stored in the inbox
  (`hotline.inbox`) does, by its channel: run by a worker, in the inbox's transaction.
- `PROVIDERS` — what the core asks an area for when it cannot know it itself (how to ring a
  citizen for a survey, which account's sender reaches an openid and when the citizen last
  wrote, where a fetched file is, an area's demo rows, routing's suggestion and trial for the
  console, a call's recording, what to load at a process's start and
  keep up to date between jobs): the functions of a role in the order they are asked; the
  comment at each role says whose answer counts (the first that answers, unless it says
  otherwise).
- `COMMANDS` — the commands the areas add to the `hotline` command line.

The periodic jobs are declared in `workers.schedule.periodic_jobs`, the API operations each
module documents (its `PATHS`) are collected in `hotline.api.openapi`; both ask `wired` which
areas this app has.

Every row names an area; it is used when that area is wired (`HOTLINE_AREAS`, all by default;
`()` leaves them all out: benchmarks of the core alone). "core" rows are always used. The table
is resolved into functions once per app (`wire`), so an app built with other areas in the same
process (tests) has its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .events import ActionTaken, CaseCreated

CORE = "core"

# (area, module whose init_app(app) wires it, or None when its rows below are all it adds), in
# wiring order.
AREAS: tuple[tuple[str, str | None], ...] = (
    ("routing", "routing.integration"),
    ("workers", None),
    ("wechat", "channels.wechat"),
    ("phone", "channels.phone"),
    ("web", "channels.web"),
    ("open311", "channels.open311"),
    ("reports", "hotline.reports"),
)

# (area, SQLAlchemy session event, listener): what watches every session's transactions, each
# event's listeners in this order. SQLAlchemy's listeners belong to the process, not to an app:
# a row is installed when the first app that has its area is built, and stays.
SESSION_LISTENERS: tuple[tuple[str, str, str], ...] = (
    # The report figures (预汇总) follow every step in its transaction, whichever area takes it:
    # a case's contribution read before the flush, the difference added after it.
    (CORE, "before_flush", "hotline.reports.rollup.read_before_flush"),
    (CORE, "after_flush", "hotline.reports.rollup.add_differences"),
    (CORE, "after_rollback", "hotline.reports.rollup.forget_pending"),
    (CORE, "do_orm_execute", "hotline.reports.rollup.follow_bulk_statement"),
    # SQLite's writers of inbound messages queue on a file lock: let go at the commit, before
    # the listeners below talk to Redis.
    (CORE, "after_commit", "hotline.inbox.release_after_commit"),
    # A change to users, lines, departments or routing's rules gives its table a new stamp in
    # its transaction: every process checks its copies of them against the stamps.
    (CORE, "after_flush", "hotline.reference.stamp_changes"),
    (CORE, "do_orm_execute", "hotline.reference.stamp_bulk_changes"),
    (CORE, "after_commit", "hotline.reference.forget_written"),
    (CORE, "after_rollback", "hotline.reference.forget_written"),
    # Every admin change goes on the audit list, in the change's transaction.
    (CORE, "after_flush", "hotline.audit.record_changes"),
    (CORE, "after_commit", "hotline.audit.forget_written"),
    (CORE, "after_rollback", "hotline.audit.forget_written"),
    # The fast path: outbox and inbox rows queued on RQ as soon as their transaction commits
    # (the relay's periodic job queues what it misses).
    ("workers", "after_flush", "workers.relay.collect_new_messages"),
    ("workers", "after_commit", "workers.relay.queue_after_commit"),
    ("workers", "after_rollback", "workers.relay.forget_new_messages"),
)

# Domain event → (area, handler) in the order they run, inside the step's transaction.
EVENT_HANDLERS: dict[type, tuple[tuple[str, str], ...]] = {
    CaseCreated: (
        # Topic, category and region suggested and filled in, a likely duplicate linked, and a
        # confident suggestion dispatched at once (an ActionTaken of its own).
        ("routing", "routing.integration.route_new_case"),
    ),
    ActionTaken: (
        # A reopened case (重办) leaves the public board until it is approved again.
        (CORE, "hotline.publication.after_action"),
        # The citizen's status message; the survey on closing (回访); a reopening ends the
        # survey round. Outbox rows: the workers send them.
        ("workers", "hotline.followup.after_action"),
        # The department's contacts told of a dispatch, recall, co-handling or instruction.
        ("workers", "workers.department_notices.after_action"),
    ),
}

# Inbox row's channel → (area, fn(row)): what a stored inbound message does, in a worker.
INBOX_HANDLERS: dict[str, tuple[str, str]] = {
    # The conversation (intake, status, 我的, survey, binding); the reply through the outbox.
    "wechat": ("wechat", "channels.wechat.conversation.from_inbox"),
    # A case, a status query or a survey answer by SMS; the reply through the outbox.
    "sms": ("phone", "channels.phone.sms.from_inbox"),
}

# What the core asks the areas for → (area, function), asked in this order.
PROVIDERS: dict[str, tuple[tuple[str, str], ...]] = {
    # fn(case, survey) -> the outbox message of an automated survey call, or None to decline
    # (then a mobile gets an SMS, anyone else an operator's call-back). `hotline.followup`.
    "survey_call": (("phone", "channels.phone.survey_call.survey_call_hook"),),
    # fn(channel, recipient, redis) -> the sender for one recipient other than its channel's
    # configured one (an openid of an account an admin added), or None. `workers.relay`.
    "sender": (("wechat", "channels.wechat.outbound.sender_for_recipient"),),
    # fn(channel, recipient) -> when the citizen last wrote to us there, or None (WeChat's
    # 48-hour window for customer-service messages); the latest answer counts. `workers.relay`.
    "last_inbound": (("wechat", "channels.wechat.outbound.last_inbound_at"),),
    # fn(attachment) -> the stored copy of a file a channel fetched, or None.
    # `hotline.attachments.local_file`.
    "file": (("wechat", "channels.wechat.media.stored_file"),
             ("phone", "channels.phone.recordings.stored_recording")),
    # fn(app): load now what a process's first message would wait for; every one runs, in
    # gunicorn's master before it forks the web workers and as a worker starts.
    # `hotline.warmup`.
    "warm_up": (("routing", "routing.integration.warm_up"),
                ("wechat", "channels.wechat.warmup.warm_up"),
                ("workers", "workers.relay.warm_up")),
    # fn(app, serve): requests a web worker answers through its server as it settles, before
    # it takes any client's (`serve(raw HTTP request) -> raw answer`); every one runs.
    # `hotline.warmup.settle_web_worker`.
    "warm_up_request": (("wechat", "channels.wechat.warmup.rehearse_request"),),
    # fn(app): close the process's connections to outside services (they reopen at their
    # next use); every one runs, in gunicorn's master before it forks. `hotline.wsgi_app`.
    "close_connections": (("workers", "workers.relay.close_connections"),),
    # fn(app): bring what the process keeps between jobs up to date; every one runs, in a
    # worker before it forks each job's child. `hotline.warmup.refresh`.
    "refresh": (("routing", "routing.integration.refresh"),),
    # fn() -> {name: rows added}: an area's demo data, after the core's; every one runs.
    # `hotline.seed`.
    "seed": (("routing", "routing.integration.seed_default_rules"),),
    # Routing's decision for a case not yet filed (the operator's desk, as the call goes on),
    # and for a message with an unsaved rule (the admin's 试一试). `hotline.console`.
    "suggest": (("routing", "routing.integration.suggest"),),
    "try_rule": (("routing", "routing.integration.try_rule"),),
    # fn(recording_url) -> (body, content type): a call's recording, fetched with the phone
    # channel's credentials for the console's player. `hotline.console.desk`.
    "recording": (("phone", "channels.phone.recordings.fetch_recording"),),
}


# (area, a module's list of click commands) that `hotline` adds, in this order. The command line
# has every area, whatever HOTLINE_AREAS says: it is built before any app.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("routing", "routing.cli.commands"),
    ("workers", "workers.cli.commands"),
    ("wechat", "channels.wechat.cli.commands"),
    ("phone", "channels.phone.cli.commands"),
    ("reports", "hotline.reports.cli.commands"),
)


@dataclass
class Wiring:
    """The tables resolved for one app: the areas it has, and the functions of each row."""

    areas: tuple[str, ...]
    handlers: dict[type, list[Callable[[Any], None]]] = field(default_factory=dict)
    providers: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)
    inbox: dict[str, Callable[[Any], None]] = field(default_factory=dict)


def wire(app: Flask, *, areas_init: bool = True) -> Wiring:
    """Resolve the tables for the app's areas, install their session listeners and run each
    area's `init_app`, in order. A module that fails to import stops here with its own error: a
    missing area is a broken install, never something to skip.

    `areas_init=False` (an app without web parts, `create_app(web=False)`): no area's
    `init_app`, and the handlers and providers resolved at their first use, so that a command
    that takes no step imports none of them (the listeners are installed as always)."""
    known = [name for name, _ in AREAS]
    areas = tuple(app.config.get("HOTLINE_AREAS", known))
    unknown = sorted(set(areas) - set(known))
    if unknown:
        raise ValueError(f"HOTLINE_AREAS names unknown areas {unknown}; known: {known}")

    def used(rows: tuple[tuple[str, str], ...]) -> list[str]:
        return [path for area, path in rows if area == CORE or area in areas]

    handlers = {event: used(rows) for event, rows in EVENT_HANDLERS.items()}
    providers = {role: used(rows) for role, rows in PROVIDERS.items()}
    inbox = {channel: path for channel, (area, path) in INBOX_HANDLERS.items() if area in areas}
    if areas_init:
        wiring = Wiring(areas=areas,
                        handlers={k: [_resolve(p) for p in v] for k, v in handlers.items()},
                        providers={k: [_resolve(p) for p in v] for k, v in providers.items()},
                        inbox={k: _resolve(p) for k, p in inbox.items()})
    else:
        wiring = Wiring(areas=areas, handlers=_OnFirstUse(handlers),
                        providers=_OnFirstUse(providers), inbox=_OnFirstUse(inbox))
    app.extensions["hotline.wiring"] = wiring
    for area, name, path in SESSION_LISTENERS:
        if area == CORE or area in areas:
            listener = _resolve(path)
            if not event.contains(Session, name, listener):
                event.listen(Session, name, listener)
    for area, module in AREAS if areas_init else ():
        if area in areas and module is not None:
            importlib.import_module(module).init_app(app)
    return wiring


class _OnFirstUse(dict):
    """A table of `wire` whose rows are resolved when first asked for (`[key]`, `get`): each
    row is a dotted path, or a list of them."""

    def __init__(self, paths: dict[Any, Any]):
        super().__init__()
        self.paths = paths

    def __getitem__(self, key: Any) -> Any:
        if not super().__contains__(key):
            paths = self.paths[key]  # KeyError: no such row
            super().__setitem__(key, _resolve(paths) if isinstance(paths, str)
                                else [_resolve(path) for path in paths])
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self.paths else default

    def __contains__(self, key: object) -> bool:
        return key in self.paths


def commands() -> list[click.Command]:
    """The areas' commands of `COMMANDS`, in order. A module that fails to import stops the
    command line with its own error."""
    return [command for _, path in COMMANDS for command in _resolve(path)]


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def wiring_of(app: Flask | None = None) -> Wiring:
    """The app's wiring (the current app's by default)."""
    app = app or current_app
    try:
        return app.extensions["hotline.wiring"]
    except KeyError:
        raise RuntimeError("this app was not built by hotline.create_app: nothing is wired") \
            from None


def wired(area: str, app: Flask | None = None) -> bool:
    """Whether the app has this area."""
    return area in wiring_of(app).areas


def publish(event: CaseCreated | ActionTaken) -> None:
    """Run the event's handlers, in the table's order, in the caller's transaction."""
    for handler in wiring_of().handlers.get(type(event), ()):
        handler(event)


def providers(role: str) -> list[Callable[..., Any]]:
    """The current app's functions for one of `PROVIDERS`' roles, in order."""
    return wiring_of().providers[role]


def provider(role: str) -> Callable[..., Any] | None:
    """The current app's first function for a role of `PROVIDERS`, or None when no wired area
    provides it (the console then goes without: no suggestion, no player)."""
    found = providers(role)
    return found[0] if found else None
