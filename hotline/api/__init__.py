"""The staff API under /api/v1 (its contract: docs/, from docs/lifecycle.md on), one blueprint
per area."""

from flask import Blueprint, Flask

api = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from . import (  # noqa: F401  (each module defines its routes on `api` when imported)
        admin,
        calendar,
        calls,
        cases,
        contacts,
        errors,
        followup,
        health,
        openapi,
        outbox,
        publication,
        rules,
        stats,
        supervision,
    )
    from .util import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added, channels' too

    errors.install(app)
    app.register_blueprint(api)
    app.register_blueprint(health.bp)
