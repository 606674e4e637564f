"""The WSGI app for gunicorn (`hotline run`, and `wsgi:app` of a bare gunicorn): the app,
warmed up here (`hotline.warmup`: routing's dictionaries and model, the statements of intake
and of the WeChat webhook compiled), so that a web worker's first message is answered as fast
as the next ones.

Under `gunicorn --preload` this runs once, in gunicorn's master, before it opens the port and
forks the web workers: they start warm, sharing what was loaded copy-on-write. The database
and Redis connections opened here are closed first, so that no two processes share one; and
what was loaded is moved out of the garbage collector's sight (`gc.freeze`), so that its
passes in the workers do not touch, and so copy, the shared pages."""

import gc

from . import create_app, warm_up
from .extensions import db
from .logs import configure_logging
from .wiring import wiring_of

configure_logging("web")
app = create_app()
warm_up(app)
with app.app_context():
    db.engine.dispose()
for close in wiring_of(app).providers.get("close_connections", []):
    close(app)  # Redis's: each web worker opens its own as it settles
gc.collect()  # what warming up left as garbage is freed, not frozen with the rest
gc.freeze()
