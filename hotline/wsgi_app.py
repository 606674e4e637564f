"""The WSGI app inside the package, for `hotline run` (gunicorn imports it by module path)."""

from . import create_app

app = create_app()
