"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from hotline import create_app
from hotline.logs import configure_logging

configure_logging("web")
app = create_app()
