"""gunicorn's hooks for Hotline's web server: `hotline run` starts gunicorn with
`--config python:hotline.gunicorn_conf` (`hotline.cli.gunicorn_command`); a gunicorn started by
hand can name it too.

`post_worker_init`: a web worker, just forked from the master that built and warmed the app
(`--preload`: hotline/wsgi_app.py), runs the warm-up's rehearsals once more before it takes its
first request (`hotline.warmup.settle_web_worker`). The master's memory is shared copy-on-write,
and Python writes to an object it merely uses (its reference count): the first request would
copy thousands of pages (3,000 for a WeChat message, 5,000 for a case, measured) and open the
worker's database connections; now the worker does both before it serves.
"""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    from hotline.warmup import settle_web_worker
    from hotline.wsgi_app import app

    settle_web_worker(app)
