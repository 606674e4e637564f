"""The WSGI app inside the package, for `hotline run` (gunicorn imports it by module path)."""

from . import create_app
from .logs import configure_logging

configure_logging("web")
app = create_app()
