"""Logging of the web and worker processes: one setup for both, and the context each line
carries.

- ``HOTLINE_LOG_FORMAT``: ``text`` (default, a line for people) or ``json`` (one JSON object
  per line for a log collector: ``time``, ``level``, ``logger``, ``message``, ``process``,
  ``request_id``, ``case`` and the line's own fields such as ``outbox_id`` and ``channel``).
- ``HOTLINE_LOG_LEVEL``: ``INFO`` by default; ``DEBUG`` shows the routine lines too.

The request id is the caller's ``X-Request-ID`` (a proxy's or a client's, when it is a sane
token) or a new one; the web echoes it in the response's ``X-Request-ID`` header. In a worker
the id is the RQ job's. The case number is bound where a line concerns one case: a staff or
console URL naming it, a case being created, an outbox message being sent.

What is worth a line at INFO: something that happened (a request served, a message sent or
failed). Periodic work that found nothing to do is DEBUG: RQ's own lines for every job it runs
(enqueued, started, OK, result kept) are demoted to DEBUG here, and each job that did something
says so itself. Health probes are DEBUG too. No line carries a full phone number or a message's
text.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from typing import IO, Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from .accesslog import redact
from .warmup import unseen
from .webforms import client_address

FORMAT_ENV = "HOTLINE_LOG_FORMAT"
LEVEL_ENV = "HOTLINE_LOG_LEVEL"
REQUEST_ID_HEADER = "X-Request-ID"

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)
case_number: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_number",
                                                                          default=None)

# A caller's request id is taken as it is only when it is a plain token of sane length.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PROBES = ("/healthz", "/readyz", "/static/")

# RQ's lines about each job's passage (format strings of rq 2.x/3.x), said at INFO for every
# job every few seconds: DEBUG here. Failures are logged by RQ at WARNING and above and stay.
_RQ_ROUTINE = frozenset({
    "Worker %s: %s: %s (%s)",  # job started, and "Job OK"
    "Worker %s: %s: %s",
    "Successfully completed %s job in %ss on worker %s",
    "Successfully completed job %s in %ss on worker %s",
    "Worker %s: job %s result is kept for %s seconds",
    "Worker %s: job %s result discarded immediately",
    "Worker %s: cleaning registries for queue: %s",
    "Worker %s: cleaning group registries",
    "CronScheduler %s: re-registered in scheduler registry",
})
_RQ_ROUTINE_PREFIXES = ("Enqueued job ",)  # rq.cron, one per periodic job run

# Attributes every LogRecord has; anything else was passed with `extra=` and goes in the JSON.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id", "case", "process_kind"}


class ContextFilter(logging.Filter):
    """Puts the request id, the case number and the process kind on every record."""

    def __init__(self, process_kind: str) -> None:
        super().__init__()
        self.process_kind = process_kind

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.case = getattr(record, "case", None) or case_number.get()
        record.process_kind = self.process_kind
        return True


class RoutineFilter(logging.Filter):
    """Demotes RQ's per-job INFO lines to DEBUG, and drops them below the handler's level."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith("rq.") and (
                record.msg in _RQ_ROUTINE
                or str(record.msg).startswith(_RQ_ROUTINE_PREFIXES)):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


class JsonFormatter(logging.Formatter):
    """One JSON object per line; Chinese stays readable."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).astimezone()
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": getattr(record, "process_kind", None),
            "pid": record.process,
            "request_id": getattr(record, "request_id", None),
            "case": getattr(record, "case", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) \
                    else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(process_kind: str, stream: IO[str] | None = None,
                      fmt: str | None = None, level: str | int | None = None
                      ) -> logging.Handler:
    """Send this process's log lines (ours, RQ's, gunicorn's) to `stream` (stderr) in the
    chosen format, replacing what an earlier call installed. Returns the handler."""
    fmt = (fmt or os.environ.get(FORMAT_ENV) or "text").lower()
    level = level or os.environ.get(LEVEL_ENV) or "INFO"
    numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("hotline")
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter(process_kind))
    handler.addFilter(RoutineFilter(numeric))

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "hotline"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(numeric, logging.INFO))
    # Flask's own stderr handler on the app's logger would print every line a second time.
    from flask.logging import default_handler

    logging.getLogger("hotline").removeHandler(default_handler)
    # twilio's client logs every request at INFO, the recipient's number and the text with it.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    for name in ("rq.worker", "rq.cron", "rq.scheduler"):
        # RQ gives these loggers stdout handlers of its own when nothing above them has one.
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    gunicorn = logging.getLogger("gunicorn.error")
    if gunicorn.handlers:  # under gunicorn: its worker lines in the same format
        gunicorn.handlers = [handler]
    return handler


_KEEP: Any = object()


@contextlib.contextmanager
def bound(*, request: str | None = _KEEP, case: str | None = _KEEP) -> Iterator[None]:
    """Lines logged inside carry this request id and/or case number (None: none)."""
    tokens = []
    if request is not _KEEP:
        tokens.append((request_id, request_id.set(request)))
    if case is not _KEEP:
        tokens.append((case_number, case_number.set(case)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind_case(number: str | None) -> None:
    """From here to the end of the request or job, lines concern this case."""
    if number:
        case_number.set(number)


def new_request_id() -> str:
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Give every request an id (taken from X-Request-ID or made), echo it, and log one line
    per request served (health probes at DEBUG): the client, the request line with its secrets
    redacted (`hotline.accesslog.redact`: phone tails, survey tokens, openids), the status and
    the time taken — the access log of `hotline run`, which gives gunicorn no second one."""
    logger = logging.getLogger("hotline.requests")

    @app.before_request
    def _start() -> None:
        asked = request.headers.get(REQUEST_ID_HEADER, "")
        request_id.set(asked if _SANE_ID.fullmatch(asked) else new_request_id())
        case_number.set((request.view_args or {}).get("number") or None)
        g.log_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = request_id.get()
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        started = g.get("log_started")
        if started is not None and not unseen():
            level = logging.DEBUG if request.path.startswith(_PROBES) else logging.INFO
            route = request.url_rule.rule if request.url_rule else None
            # A survey link's token is a key to that survey, a phone tail half a password.
            target = redact(request.full_path.removesuffix("?"))
            client = client_address()
            ms = (time.perf_counter() - started) * 1000
            logger.log(level, '%s "%s %s" %s %.0f ms', client, request.method, target,
                       response.status_code, ms,
                       extra={"client": client, "method": request.method, "path": target,
                              "route": route, "status": response.status_code,
                              "duration_ms": round(ms, 1)})
        return response

    @app.teardown_request
    def _forget(_: BaseException | None) -> None:
        request_id.set(None)
        case_number.set(None)
