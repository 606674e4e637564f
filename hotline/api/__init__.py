"""The staff API under /api/v1 (SPEC §4), one blueprint per area."""

from flask import Blueprint, Flask

api = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from . import admin, calendar, cases, errors, health, openapi  # noqa: F401  (routes)

    errors.install(app)
    app.register_blueprint(api)
    app.register_blueprint(health.bp)
