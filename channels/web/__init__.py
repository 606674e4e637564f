"""The web channel: the public message board, the form to write, the status look-up and the
survey page (server-rendered, in Chinese), and the public JSON API under /api/v1/public.

`init_app` registers the blueprints and the per-app rate limiter; the core loads it by name.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, files, pages, security

    security.install(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(files.bp)
