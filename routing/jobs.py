"""Routing's background job: retrain the topic model (weekly by default, and on demand)."""

from __future__ import annotations

from typing import Any


def retrain_topic_model(requested_by: str = "schedule") -> dict[str, Any]:
    """Train on the shipped real messages and the centre's closed cases; the new model becomes
    active only if it is not worse than the active one on held-back messages."""
    from workers.jobs import app_context

    from .training import train

    with app_context():
        row = train(requested_by)
        return {"model": row.id, "active": row.active, "examples": row.examples,
                "note": row.note}
