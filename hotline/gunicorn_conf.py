"""gunicorn's hooks for Hotline's web server: `hotline run` starts gunicorn with
`--config python:hotline.gunicorn_conf` (`hotline.cli.gunicorn_command`); a gunicorn started by
hand can name it too.

`post_worker_init`: a web worker, just forked from the master that built and warmed the app
(`--preload`: hotline/wsgi_app.py), runs the warm-up's rehearsals once more before it takes its
first request (`hotline.warmup.settle_web_worker`), and answers requests of its own through
its own request handling (`answer`). The master's memory is shared copy-on-write, and Python
writes to an object it merely uses (its reference count): the first request would copy
thousands of pages (3,000 for a WeChat message, 5,000 for a case, measured; still 640 after
the rehearsals alone, on the request path they do not run) and open the worker's database
connections; now the worker does both before it serves.
"""

from __future__ import annotations

import socket
from functools import partial
from typing import Any


def post_worker_init(worker: Any) -> None:
    from gunicorn.workers.sync import SyncWorker

    from hotline.warmup import settle_web_worker
    from hotline.wsgi_app import app

    # Another kind of worker (gthread: --threads) settles without rehearsed requests.
    serve = partial(answer, worker) if isinstance(worker, SyncWorker) else None
    settle_web_worker(app, serve)


def answer(worker: Any, request: bytes) -> bytes:
    """`request` answered by the worker as it answers a client's — read, parsed, handled and
    written back by gunicorn's own code — on a loopback connection of its own, not the
    listening socket (no client's request is taken); gunicorn neither logs nor counts it."""
    served, access = worker.nr, worker.log.access
    with socket.create_server(("127.0.0.1", 0)) as server, \
            socket.create_connection(server.getsockname()[:2]) as client:
        client.sendall(request)
        client.shutdown(socket.SHUT_WR)  # all sent: gunicorn's close waits for nothing more
        worker.log.access = lambda *args: None
        try:
            worker.accept(server)
        finally:
            worker.nr, worker.log.access = served, access
        parts = []
        while part := client.recv(65536):
            parts.append(part)
    return b"".join(parts)
