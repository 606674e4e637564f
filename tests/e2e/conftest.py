"""Browser fixtures of the end-to-end tests: Debian's chromium driven by Playwright, on an
office screen (1366×768) for the staff console.

And `hotline run` as a user starts it (`HotlineRun`, the `hotline_run` fixture). The
server's output goes to a file that nothing has to keep reading (a pipe nobody drains fills at
64 KB and then blocks every process of the server on its next log line); the file is printed
when a test fails. Every request a test makes has a short timeout, so a server that
stops answering fails the test within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.embedded import free_port
from tests.integration.console.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def needs_chromium() -> None:
    """Skip the calling module where Debian's chromium is missing (.ci/run installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)",
                    allow_module_level=True)


def screenshot_folder(variable: str, tmp_path: Path) -> Path:
    """Where a test's screenshots go: the folder $`variable` names when set (to look at them),
    else the test's temporary folder."""
    folder = Path(os.environ.get(variable) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def console_shots(tmp_path: Path) -> Path:
    """Where console screenshots go: $CONSOLE_SCREENSHOTS_DIR when set, else the test's folder."""
    return screenshot_folder("CONSOLE_SCREENSHOTS_DIR", tmp_path)


@pytest.fixture(scope="module")
def chromium():
    """One chromium (and Playwright's driver) for the tests of a module: starting them is a
    second or more of CPU, and a test's pages live in contexts of their own (`office_browser`),
    which share nothing — cookies, storage, cache — with another test's."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def office_browser(chromium):
    """Chromium for one test: `new_page()` opens a fresh 1366×768 context (its own cookies),
    so one test can have an operator, a clerk and a supervisor side by side; `signed_in()`
    opens one signed in to the console. The test's contexts are closed after it."""
    contexts = []

    class Office:
        def new_page(self, width: int = 1366, height: int = 768, **kw):
            context = chromium.new_context(viewport={"width": width, "height": height},
                                           locale="zh-CN", **kw)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(15_000)
            return page

        def signed_in(self, base_url: str, name: str, password: str = PASSWORD,
                      path: str | None = None, **kw):
            """A new page signed in to the console at `base_url` as `name`, then at
            `path` when given."""
            page = self.new_page(**kw)
            console_sign_in(page, base_url, name, password)
            if path is not None:
                page.goto(base_url + path)
            return page

    try:
        yield Office()
    finally:
        for context in contexts:
            context.close()


def console_sign_in(page, base_url: str, name: str, password: str) -> None:
    """Sign in on the console's sign-in page as a person would."""
    page.goto(f"{base_url}/console/login")
    page.fill("#username", name)
    page.fill("#password", password)
    submit(page, "#sign-in")


def submit(page, button: str, shot: Path | None = None) -> None:
    """Press a form's `button` and wait for the page it leads to; with `shot`, the filled form
    is photographed there first."""
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    page.click(button)
    page.wait_for_load_state()


def shipped_topic_model_cached() -> None:
    """`hotline run` trains the topic model on the shipped real messages the first time on a
    machine (half a minute or more) and caches it; train it here, once, before the first
    server of the session starts, so that its readiness is timed on starting, not training."""
    from routing.training import shipped_model

    shipped_model()


#: Seconds one request to the server may take before the test fails.
REQUEST_TIMEOUT = 10


class HotlineRun:
    """One `hotline run --demo` on the embedded defaults, in its own instance folder."""

    def __init__(self, folder: Path, extra_env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()):
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "hotline-run.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "HOTLINE_TEST_DATABASE_URL")}
        env["HOTLINE_INSTANCE_PATH"] = str(folder / "instance")
        # The README's commands call `hotline`, installed beside this interpreter.
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env.update(extra_env or {})
        self.env = env
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self, ready_within: float = 180) -> HotlineRun:
        """Start it and return once it is ready, its worker included (`/readyz?deep=1`): a
        test times what it does with the server, not the server's start (the web server and
        the worker each load the app and routing's dictionaries and model, seconds of CPU;
        a test starting while the worker still did would share the machine with it)."""
        shipped_topic_model_cached()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "run", "--demo", "--port", str(self.port),
             *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"hotline run exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.get("/readyz?deep=1", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"hotline run was not ready within {ready_within:.0f} s:\n{self.log()}")

    def get(self, path: str, timeout: float = REQUEST_TIMEOUT,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """GET `path`; (status, JSON body or text). Raises OSError when nothing answers."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                status, body, kind = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, body, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        text = body.decode("utf-8", "replace")
        return status, json.loads(text) if "json" in kind else text

    def log(self, last: int = 200) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(lines[-last:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A failed test that used a `hotline run` shows the server's output with its failure."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("hotline_run")
    if report.failed and isinstance(server, HotlineRun):
        report.sections.append((f"output of hotline run (last 200 lines of {server.log_path})",
                                server.log()))


@pytest.fixture(scope="module")
def hotline_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineRun]:
    """A running `hotline run --demo`, one for the tests of a module (each starts the same way;
    a start takes seconds of CPU)."""
    server = HotlineRun(tmp_path_factory.mktemp("hotline-run")).start()
    try:
        yield server
    finally:
        server.stop()
