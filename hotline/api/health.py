"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; say which
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from ..queue import redis_connection

        redis_connection(current_app, timeout=1).ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001 - as above
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), \
        (200 if ready else 503)
