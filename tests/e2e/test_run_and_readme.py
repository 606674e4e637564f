"""`hotline run --demo` on the embedded defaults, and the README's curl walk run as written."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from .conftest import REQUEST_TIMEOUT, HotlineRun

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def readme_walk() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## One case with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


def curl_with_timeouts(env: dict[str, str], folder: Path) -> dict[str, str]:
    """The walk's curl calls, each cut off after REQUEST_TIMEOUT seconds (through a .curlrc:
    the walk stays as the README writes it)."""
    home = folder / "curl-home"
    home.mkdir(exist_ok=True)
    (home / ".curlrc").write_text(f"connect-timeout = 3\nmax-time = {REQUEST_TIMEOUT}\n")
    return {**env, "CURL_HOME": str(home)}


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's walk uses curl")
def test_readme_curl_walk_works_as_written_against_hotline_run(hotline_run: HotlineRun,
                                                               tmp_path: Path):
    status, body = hotline_run.get("/readyz")
    assert status == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok"}  # SQLite file, embedded Redis

    script = readme_walk().replace("127.0.0.1:8000", f"127.0.0.1:{hotline_run.port}")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script],
                         env=curl_with_timeouts(hotline_run.env, tmp_path), check=False,
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    number = lines[0]
    assert re.fullmatch(r"ZT\d{8}-\d{4}", number)
    assert lines[1:6] == ["dispatched", "accepted", "replied", "reviewed", "closed"]
    timeline = [line.split()[1:] for line in lines[6:]]
    assert timeline == [["op1", "create"], ["op1", "dispatch"], ["hrss1", "accept"],
                        ["hrss1", "reply"], ["sup1", "review"], ["op1", "close"]]

    # The survey sent at closing links to the server that runs, though PUBLIC_BASE_URL is unset.
    with sqlite3.connect(Path(hotline_run.env["HOTLINE_INSTANCE_PATH"]) / "hotline.db") as database:
        [(text,)] = database.execute(
            "SELECT outbox.text FROM outbox JOIN cases ON cases.id = outbox.case_id "
            "WHERE cases.number = ? AND outbox.purpose = 'survey'", (number,)).fetchall()
    link = re.search(r"https?://\S+/survey/[\w.-]+", text).group()
    assert link.startswith(f"{hotline_run.base}/survey/"), link
    with urllib.request.urlopen(link, timeout=REQUEST_TIMEOUT) as page:
        assert number in page.read().decode("utf-8")


def test_readme_staff_console_steps_sign_the_first_admin_in(hotline_run: HotlineRun):
    """The README's "Staff console" section: `hotline run --demo` says no one can sign in yet
    and how to change that; the command the README gives makes an admin who signs in at
    /console."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    assert "no one can sign in yet" in hotline_run.log()
    assert f"staff console: {hotline_run.base}/console" in hotline_run.log()
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Staff console", 1)[1]
    command = re.search(r"```sh\n(hotline create-user [^#\n]*?)\s*(#.*)?\n", section).group(1)
    assert command == "hotline create-user admin --role admin --password"
    made = subprocess.run(["bash", "-c", command], input="值班-Admin-2026\n", env=hotline_run.env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    assert "open http://127.0.0.1:8000/console" in made.stdout

    base = hotline_run.base
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"{base}/console", timeout=REQUEST_TIMEOUT) as r:
        assert r.url.startswith(f"{base}/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": "admin",
                                   "password": "值班-Admin-2026"}).encode()
    with browser.open(f"{base}/console/login", data=form, timeout=REQUEST_TIMEOUT) as r:
        page = r.read().decode()
        assert r.url.startswith(f"{base}/console/") and "/login" not in r.url
    assert 'id="signed-in-as">admin<' in page and "账号管理" in page
