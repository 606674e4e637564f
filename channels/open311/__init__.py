"""The Open311 channel: GeoReport v2 under /open311/v2 for civic-reporting clients, and the
admin's API keys for them under /api/v1/open311/keys. The core loads `init_app` by name."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import admin, console, models, views  # noqa: F401  (models: register the tables)

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)  # the admin's page of keys in the staff console
