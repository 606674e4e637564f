"""The topic models through the staff API: list them with their figures, train a new one in
the background, make a stored one active (roll back)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import select

from hotline.api.auth import login_required
from hotline.domain.lifecycle import Role
from hotline.extensions import db
from hotline.models import RoutingModel

bp = Blueprint("routing_api", __name__, url_prefix="/api/v1/routing")


def model_json(row: RoutingModel) -> dict:
    figures = row.figures or {}
    return {"id": row.id, "active": row.active, "created_at": row.created_at.isoformat(),
            "created_by": row.created_by, "examples": row.examples, "note": row.note,
            "cross_validation": figures.get("cross_validation"),
            "unseen_matters": figures.get("unseen_matters"),
            "held_back": figures.get("held_back"), "meta": figures.get("meta")}


@bp.get("/models")
@login_required(Role.SUPERVISOR)
def list_models():
    rows = db.session.scalars(select(RoutingModel).order_by(RoutingModel.id.desc()).limit(50))
    return jsonify({"items": [model_json(r) for r in rows]})


@bp.post("/models")
@login_required(Role.ADMIN)
def train_model():
    """Start a retrain in the workers; the answer says which job to look for."""
    from redis.exceptions import RedisError

    from hotline.queue import queue

    try:
        job = queue(current_app._get_current_object(), "reports").enqueue(
            "routing.jobs.retrain_topic_model", g.user.name, job_timeout=3600)
    except (RedisError, RuntimeError):
        return jsonify({"error": {
            "code": "queue_unavailable", "fields": {},
            "message": "the workers' queue cannot be reached; try again later, or run "
                       "`hotline routing-train` on the server"}}), 503
    return jsonify({"job": job.id, "status": "queued"}), 202


@bp.post("/models/<int:model_id>/activate")
@login_required(Role.ADMIN)
def activate_model(model_id: int):
    from .training import activate

    return jsonify(model_json(activate(model_id)))


# This module's operations in the OpenAPI document (collected by hotline.api.openapi).
PATHS: list[tuple] = [
    ("/routing/models", "get", "List the topic models with their figures", None, None,
     ["routing"]),
    ("/routing/models", "post", "Train a new topic model in the background (admin)",
     None, None, ["routing"], (202,),
     {503: "the workers' queue cannot be reached; nothing was started"}),
    ("/routing/models/{model_id}/activate", "post",
     "Make a stored topic model the active one (roll back)", None, None, ["routing"]),
]
