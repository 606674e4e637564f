"""The WSGI app inside the package, for `hotline run` (gunicorn imports it by module path in
each web worker: what routing reads is loaded here, at the worker's start)."""

from routing.integration import warm_up

from . import create_app
from .logs import configure_logging

configure_logging("web")
app = create_app()
warm_up(app)
