"""`hotline run --demo` on the embedded defaults, and the README's curl walk run as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hotline.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


def readme_walk() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## One case with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


@pytest.fixture
def running(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "HOTLINE_TEST_DATABASE_URL")}
    env["HOTLINE_INSTANCE_PATH"] = str(tmp_path / "instance")
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "run", "--demo", "--port",
                             str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            pytest.fail("hotline run exited: " + (proc.stdout.read() if proc.stdout else ""))
    else:
        proc.kill()
        pytest.fail("hotline run did not become ready")
    yield base, port, env
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's walk uses curl")
def test_readme_curl_walk_works_as_written_against_hotline_run(running):
    base, port, env = running
    with urllib.request.urlopen(base + "/readyz") as r:
        checks = json.load(r)["checks"]
    assert checks == {"database": "ok", "redis": "ok"}  # SQLite file and embedded Redis

    script = readme_walk().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, check=False,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    number = lines[0]
    assert re.fullmatch(r"ZT\d{8}-\d{4}", number)
    assert lines[1:6] == ["dispatched", "accepted", "replied", "reviewed", "closed"]
    timeline = [line.split()[1:] for line in lines[6:]]
    assert timeline == [["op1", "create"], ["op1", "dispatch"], ["hrss1", "accept"],
                        ["hrss1", "reply"], ["sup1", "review"], ["op1", "close"]]
