"""`hotline run`'s supervisor: the processes of a one-machine install, kept running.

It starts the embedded redis-server (when REDIS_URL is unset), the RQ worker with its
scheduler, and gunicorn, and looks after them until it is told to stop (SIGTERM, SIGINT):

- a child that exits is started again after a back-off — 1 s, doubling for each exit that
  follows a short run, at most 30 s; a child that ran for a minute starts again after 1 s;
- every exit and restart is logged (``hotline.run`` logger) with the child's name, pid, exit
  code and the wait;
- the embedded Redis comes back on the same port with the same password and append-only
  file, so the jobs it held are still there; the worker and the web workers reconnect to it
  by themselves (see `workers.worker.run_worker`);
- on stop, gunicorn and the worker are asked to end (SIGTERM, then SIGKILL after 15 s), and
  the embedded Redis last;
- each child leads a process group of its own: a terminal's Ctrl-C reaches the supervisor
  alone, which stops them in that order (Redis used to die first, with the worker's and the
  scheduler's tracebacks after it), and what a child leaves behind when it exits (the RQ
  scheduler of a worker killed with SIGKILL) is killed with it.

Whether the worker is doing its work is for `/readyz?deep=1` to say (worker heartbeats and
the outbox's oldest due message): a hung process is not an exited one.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("hotline.run")

#: Back-off between restarts of a child: the first wait, the longest, and how long a child
#: must have run for its next exit to count as a new failure (the wait starts again at FIRST).
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0
#: How long a child asked to stop may take before it is killed.
STOP_TIMEOUT = 15.0


@dataclass
class Child:
    """One supervised process: `start` launches it and returns its Popen; `stop` ends it."""

    name: str
    start: Callable[[], subprocess.Popen]
    stop: Callable[[subprocess.Popen], None] | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    wait: float = BACKOFF_FIRST
    restarts: int = 0
    history: list[tuple[float, int | None]] = field(default_factory=list)

    def launch(self, now: float) -> None:
        try:
            self.process = self.start()
        except Exception as exc:  # noqa: BLE001 - any failure to start is retried the same way
            log.error("%s did not start: %s", self.name, exc)
            self.process = None
            self._schedule(now, short_run=True)
            return
        self.started_at = now
        self.restart_at = None
        if self.restarts:
            log.warning("%s started again (pid %s, restart %d)", self.name, self.process.pid,
                        self.restarts)

    def check(self, now: float) -> None:
        """Notice an exit, or start the child again once its wait is over."""
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return
            end_group(self.process)
            ran = now - self.started_at
            self.history.append((now, code))
            self.process = None
            self._schedule(now, short_run=ran < HEALTHY_AFTER)
            log.warning("%s (exit code %s after %.0f s) exited; starting it again in %.0f s",
                        self.name, code, ran, self.restart_at - now)
        elif self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.launch(now)

    def _schedule(self, now: float, short_run: bool) -> None:
        if not short_run:
            self.wait = BACKOFF_FIRST
        self.restart_at = now + self.wait
        self.wait = min(self.wait * 2, BACKOFF_MAX)

    def terminate(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            if self.stop is not None:
                self.stop(process)
            else:
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        end_group(process)


def end_group(process: subprocess.Popen) -> None:
    """Kill what an exited child left of its process group: the RQ worker's scheduler (a
    process of its own) outlives a worker killed with SIGKILL, holds the scheduler's lock and
    would keep the restarted worker from scheduling. Children are started as group leaders
    (`process_group=0`), so their group is theirs alone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left, or not a group of ours


class Supervisor:
    """Start `children` in order, keep them running until SIGTERM/SIGINT, stop them in
    reverse order."""

    def __init__(self, children: list[Child], tick: float = 0.2):
        self.children = children
        self.tick = tick
        self.stopping = False

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        # The children have process groups of their own (a terminal's Ctrl-C reaches this
        # process alone, which stops them in order: Redis last); a closed terminal stops all.
        signal.signal(signal.SIGHUP, self.request_stop)
        try:
            now = time.monotonic()
            for child in self.children:
                if not self.stopping and child.process is None:
                    child.launch(now)
            while not self.stopping:
                time.sleep(self.tick)
                now = time.monotonic()
                for child in self.children:
                    if self.stopping:
                        break
                    child.check(now)
        finally:
            for child in reversed(self.children):
                child.terminate()
