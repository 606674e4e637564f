"""Liveness and readiness probes.

- `/healthz`: the web process answers.
- `/readyz`: it can take cases — the database and Redis answer. A load balancer sends
  requests by this; a dead worker does not make it fail (intake goes on, and what the worker
  should send waits in the outbox).
- `/readyz?deep=1`: also whether the follow-up work is being done, for monitoring — some RQ
  worker was heard from within WORKER_TTL seconds (`hotline.queue.worker_heartbeats`), and the
  oldest outbox message that is due has waited less than OUTBOX_STALL_SECONDS (default 300;
  the relay runs every 10 s). Each failed check says why; `details` gives the figures.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("health", __name__)

#: An outbox whose oldest due message has waited longer than this has stopped moving.
OUTBOX_STALL_SECONDS = 300


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    details: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    redis = None
    try:
        from ..queue import redis_connection

        redis = redis_connection(current_app, timeout=1)
        redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001 - as above
        redis = None
        checks["redis"] = f"error: {type(exc).__name__}"
    if request.args.get("deep") in ("1", "true", "yes"):
        checks["worker"] = _worker_check(redis, details)
        checks["outbox"] = _outbox_check(checks["database"] == "ok", details)
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if details:
        body["details"] = details
    return jsonify(body), (200 if ready else 503)


def _worker_check(redis: Any, details: dict[str, Any]) -> str:
    from ..queue import worker_heartbeats, worker_ttl

    if redis is None:
        return "error: Redis does not answer"
    try:
        ages = worker_heartbeats(redis)
    except Exception as exc:  # noqa: BLE001 - as above
        return f"error: {type(exc).__name__}"
    ttl = worker_ttl(current_app)
    details["workers"] = {name: round(age, 1) for name, age in sorted(ages.items())}
    if not ages:
        return "error: no worker is registered"
    if min(ages.values()) > ttl:
        return f"error: no worker heard from for {min(ages.values()):.0f} s"
    return "ok"


def _outbox_check(database_ok: bool, details: dict[str, Any]) -> str:
    from ..outbox import backlog

    if not database_ok:
        return "error: the database does not answer"
    state = backlog()
    limit = int(current_app.config.get("OUTBOX_STALL_SECONDS") or OUTBOX_STALL_SECONDS)
    details["outbox"] = {"due": state.due,
                         "oldest_due_seconds": round(state.oldest_due_seconds, 1),
                         "dead": state.by_status.get("dead", 0)}
    if state.oldest_due_seconds > limit:
        return (f"error: the oldest due message has waited {state.oldest_due_seconds:.0f} s "
                f"(more than {limit} s)")
    return "ok"
