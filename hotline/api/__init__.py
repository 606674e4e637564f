"""The staff API under /api/v1 (SPEC §4), one blueprint per area."""

from flask import Blueprint, Flask

api = Blueprint("api", __name__, url_prefix="/api/v1")


# Modules of the staff API that other areas add (each defines routes on `api` when imported).
OPTIONAL_MODULES = ("supervision", "publication", "calls", "rules", "stats")


def register(app: Flask) -> None:
    import importlib

    from . import admin, calendar, cases, contacts, errors, health, openapi  # noqa: F401  (routes)
    from .util import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added, channels' too

    for name in OPTIONAL_MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    errors.install(app)
    app.register_blueprint(api)
    app.register_blueprint(health.bp)
