"""WSGI entry point for gunicorn: `gunicorn --preload wsgi:app` (see hotline/wsgi_app.py)."""

from hotline.wsgi_app import app

__all__ = ["app"]
