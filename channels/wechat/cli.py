"""Commands of the WeChat channel, added to `hotline`:

- `hotline wechat-menu` pushes the custom menu to an account (or prints it);
- `hotline wechat-send OPENID TEXT` plays WeChat: posts a correctly signed (and, for a
  safe-mode account, encrypted) message to a running server and prints the account's reply
  (the server acknowledges at once and its workers answer: the reply is read from the
  database the server shares, as the customer-service message it sends) — a way to try the
  channel without a real official account.
"""

from __future__ import annotations

import hashlib
import json

import click
import requests

from .simulator import Simulator


def _app():
    from hotline import create_app

    return create_app()


@click.command("wechat-menu")
@click.option("--account", "code", default="default", show_default=True,
              help="account code (the default one comes from WECHAT_*)")
@click.option("--board-url", default=None, help="add a link to the web message board")
@click.option("--print", "only_print", is_flag=True, help="print the menu instead of pushing it")
def wechat_menu(code: str, board_url: str | None, only_print: bool) -> None:
    """Push the custom menu (我要反映 · 查询进度 · 使用说明) to the account."""
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.models import Line

    from .accounts import api_client, find_account
    from .menu import build_menu

    app = _app()
    with app.app_context():
        account = find_account(code)
        if account is None:
            raise click.ClickException(f"no WeChat account {code!r} (set WECHAT_TOKEN, or add "
                                       "it through /api/v1/wechat/accounts)")
        lines = [(line.code, line.name) for line in db.session.scalars(
            select(Line).where(Line.active.is_(True), Line.phone_number.is_not(None))
            .order_by(Line.id))]
        menu = build_menu(lines, board_url)
        if only_print:
            click.echo(json.dumps(menu, ensure_ascii=False, indent=2))
            return
        redis = None
        if app.config.get("REDIS_URL"):
            from hotline.queue import redis_connection

            redis = redis_connection(app)  # the access token is shared with the workers
        try:
            client = api_client(account, redis)
            client.menu.create(menu)
        except Exception as exc:  # noqa: BLE001 — WeChat, network or Redis: say which
            raise click.ClickException(f"menu not pushed: {type(exc).__name__}: {exc}") from None
    click.echo(f"menu pushed to {account.name} ({account.appid}): "
               + " · ".join(b["name"] for b in menu["button"]))


@click.command("wechat-send")
@click.argument("openid")
@click.argument("text", required=False, default="")
@click.option("--url", default=None,
              help="the webhook [default: http://127.0.0.1:8000/channels/wechat[/ACCOUNT]]")
@click.option("--account", "code", default="default", show_default=True)
@click.option("--event", default=None,
              help="send an event instead of text: subscribe, unsubscribe, CLICK:<KEY>")
@click.option("--voice", "media_id", default=None,
              help="send a voice message with this media id; TEXT is its recognition")
@click.option("--image", "pic_url", default=None, help="send an image at this URL")
@click.option("--mode", type=click.Choice(["auto", "plain", "compatible", "safe"]),
              default="auto", show_default=True, help="auto: safe when the account has an AES key")
@click.option("--token", default=None, help="sign with this token instead of the account's")
@click.option("--aes-key", default=None, help="encrypt with this key instead of the account's")
@click.option("--appid", default=None)
@click.option("--wait", default=10.0, show_default=True,
              help="seconds to wait for the workers' reply (0: only post)")
def wechat_send(openid: str, text: str, url: str | None, code: str, event: str | None,
                media_id: str | None, pic_url: str | None, mode: str, token: str | None,
                aes_key: str | None, appid: str | None, wait: float) -> None:
    """Post a signed message from OPENID to the running server and print the reply."""
    if not token:
        from .accounts import find_account

        with _app().app_context():
            account = find_account(code)
        if account is None:
            raise click.ClickException(f"no WeChat account {code!r}; give --token")
        token, aes_key, appid = account.token, aes_key or account.aes_key, appid or account.appid
    if mode == "auto":
        mode = "safe" if aes_key else "plain"
    sim = Simulator(token, appid=appid, aes_key=aes_key, mode=mode)
    if event:
        name, _, key = event.partition(":")
        xml = sim.event(openid, name.lower(), key or None)
    elif media_id:
        xml = sim.voice(openid, media_id, text or None)
    elif pic_url:
        xml = sim.image(openid, pic_url, "media-" + hashlib.sha1(pic_url.encode()).hexdigest()[:16])
    else:
        if not text:
            raise click.UsageError("give TEXT, or --event / --voice / --image")
        xml = sim.text(openid, text)
    target = url or ("http://127.0.0.1:8000/channels/wechat"
                     + ("" if code == "default" else f"/{code}"))
    request = sim.request(xml, openid=openid)
    try:
        response = requests.post(target, params=request.query, data=request.body,
                                 headers={"Content-Type": "text/xml"}, timeout=10)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach {target}: {exc}") from None
    if response.status_code != 200:
        raise click.ClickException(f"HTTP {response.status_code}: {response.text[:500]}")
    click.echo(f"acknowledged: {response.text[:100]}")
    if wait > 0:
        reply = _reply_to(code, xml, wait)
        click.echo(reply if reply else "(no reply)" if reply is not None
                   else f"(no reply within {wait:g} s: are the workers running?)")


def _reply_to(code: str, xml: str | bytes, wait: float) -> str | None:
    """The reply the workers gave this message ("" for none), or None if not done in time."""
    import time

    from sqlalchemy import select

    from hotline.extensions import db

    from .inbound import dedupe_key, read_message
    from .models import WeChatInbound

    msg = read_message(xml.encode() if isinstance(xml, str) else xml)
    key = dedupe_key(code, msg)
    until = time.monotonic() + wait
    with _app().app_context():
        while True:
            reply = db.session.scalar(select(WeChatInbound.reply)
                                      .where(WeChatInbound.dedupe_key == key))
            db.session.rollback()
            if reply is not None or time.monotonic() > until:
                return reply
            time.sleep(0.2)


@click.command("wechat-fetch-media")
@click.option("--limit", default=200, show_default=True)
def wechat_fetch_media(limit: int) -> None:
    """Fetch the pictures and voice messages citizens sent (normally a periodic job)."""
    from .media import fetch_pending

    app = _app()
    with app.app_context():
        redis = None
        if app.config.get("REDIS_URL"):
            from hotline.queue import redis_connection

            redis = redis_connection(app)
        outcomes = fetch_pending(limit=limit, redis=redis)
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) or "nothing to fetch")


commands = [wechat_menu, wechat_send, wechat_fetch_media]
