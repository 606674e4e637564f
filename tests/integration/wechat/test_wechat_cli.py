"""`hotline wechat-menu` pushes the menu through WeChat's API (a local fake of it), and
`hotline wechat-send` plays WeChat against a running server."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner

from hotline import inbox
from hotline.cli import main
from hotline.extensions import db

from .conftest import AES_KEY, APPID, SECRET, TOKEN


@pytest.fixture
def cli_env(wechat, monkeypatch):
    """The environment a command started next to the server would have."""
    env = {"DATABASE_URL": wechat.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": wechat.config["SECRET_KEY"], "HOTLINE_INSTANCE_PATH":
           wechat.instance_path, "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID,
           "WECHAT_SECRET": SECRET, "WECHAT_AES_KEY": AES_KEY}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return env


def test_the_menu_offers_the_lines_and_the_queries(cli_env):
    result = CliRunner().invoke(main, ["wechat-menu", "--print"])
    assert result.exit_code == 0, result.output
    menu = json.loads(result.output)
    names = [b["name"] for b in menu["button"]]
    assert names == ["我要反映", "查询进度", "使用说明"]
    keys = [s["key"] for s in menu["button"][0]["sub_button"]]
    assert keys == ["LINE_fupin", "LINE_zhitongche"]
    assert all(len(b["name"].encode()) <= 16 for b in menu["button"])


def test_wechat_menu_pushes_the_menu_to_the_account(cli_env, fake_wechat, monkeypatch):
    monkeypatch.setenv("WECHAT_API_BASE", fake_wechat.api_base)
    result = CliRunner().invoke(main, ["wechat-menu"])
    assert result.exit_code == 0, result.output
    assert "menu pushed" in result.output
    assert fake_wechat.menu["button"][1]["sub_button"][0] == {
        "type": "click", "name": "我的工单", "key": "MY_CASES"}
    assert fake_wechat.token_fetches == 1


def test_wechat_menu_says_why_when_wechat_refuses(cli_env, fake_wechat, monkeypatch):
    monkeypatch.setenv("WECHAT_API_BASE", fake_wechat.api_base)
    monkeypatch.setenv("WECHAT_SECRET", "wrong-secret")
    result = CliRunner().invoke(main, ["wechat-menu"])
    assert result.exit_code != 0 and "menu not pushed" in result.output
    assert fake_wechat.menu is None


@pytest.fixture
def worker(wechat):
    """Something doing the inbox's work next to the server, as `hotline run`'s worker does."""
    stop = threading.Event()

    def loop() -> None:
        with wechat.app_context():
            while not stop.wait(0.1):
                inbox.process_pending()
                db.session.remove()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def test_wechat_send_posts_a_signed_encrypted_message_and_prints_the_reply(cli_env, live_server,
                                                                           worker):
    url = live_server + "/channels/wechat"
    runner = CliRunner()
    result = runner.invoke(main, ["wechat-send", "oCliTester0000000000000001",
                                  "我家的危房改造补助还没有发下来，请帮忙查一下。", "--url", url])
    assert result.exit_code == 0, result.output
    assert "acknowledged: success" in result.output
    assert "工单号：FP" in result.output
    result = runner.invoke(main, ["wechat-send", "oCliTester0000000000000001", "--event",
                                  "CLICK:MY_CASES", "--url", url])
    assert "您最近的工单" in result.output
    forged = runner.invoke(main, ["wechat-send", "oCliTester0000000000000001", "你好",
                                  "--url", url, "--token", "wrongToken"])
    assert forged.exit_code != 0 and "HTTP 403" in forged.output
