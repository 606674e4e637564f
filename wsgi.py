"""WSGI entry point for gunicorn: `gunicorn wsgi:app` (routing's data and model load here, at
each web worker's start, not on its first message)."""

from hotline import create_app
from hotline.logs import configure_logging
from routing.integration import warm_up

configure_logging("web")
app = create_app()
warm_up(app)
