"""The WSGI app for gunicorn (`hotline run`, and `wsgi:app` of a bare gunicorn): the app,
with what routing reads (jieba's dictionary, the lexicons, the active topic model) loaded
here, so that a web worker's first message is answered as fast as the next ones.

Under `gunicorn --preload` this runs once, in gunicorn's master, and the web workers are forked
from it: the database connections opened here are closed first, so that no two processes
share one."""

from . import create_app, warm_up
from .extensions import db
from .logs import configure_logging

configure_logging("web")
app = create_app()
warm_up(app)
with app.app_context():
    db.engine.dispose()
