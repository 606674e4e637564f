"""The official accounts the channel answers for: the default one from the environment
(WECHAT_TOKEN, WECHAT_APPID, WECHAT_SECRET, WECHAT_AES_KEY) and others added by an admin, each
with its own webhook path, line and credentials; and the clients that talk to WeChat for them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from hotline.config import setting as config_setting
from hotline.extensions import db

from .models import WeChatAccount

DEFAULT_CODE = "default"
#: The line of the default account's cases unless WECHAT_LINE says otherwise.
DEFAULT_LINE = "fupin"


@dataclass(frozen=True)
class Account:
    """One account's settings, decrypted, as the webhook and the senders need them."""

    code: str
    name: str
    appid: str | None
    token: str
    secret: str | None
    aes_key: str | None
    line_code: str
    template_id: str | None = None
    source: str = "environment"  # or "admin"

    @property
    def safe_mode(self) -> bool:
        """With an AES key the account runs in safe (or compatible) mode: every message
        must arrive encrypted; a plain one is refused."""
        return bool(self.aes_key)

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.appid)


def setting(name: str) -> str | None:
    """A channel setting as text: the app's configuration (tests), else the environment."""
    value = config_setting(name, config=current_app.config)
    return str(value) if value is not None else None


def environment_account() -> Account | None:
    """The default account, when WECHAT_TOKEN is configured."""
    token = setting("WECHAT_TOKEN")
    if not token:
        return None
    return Account(
        code=DEFAULT_CODE,
        name=setting("WECHAT_ACCOUNT_NAME") or "贵州12345政务服务",
        appid=setting("WECHAT_APPID"),
        token=token,
        secret=setting("WECHAT_SECRET"),
        aes_key=setting("WECHAT_AES_KEY"),
        line_code=setting("WECHAT_LINE") or DEFAULT_LINE,
        template_id=setting("WECHAT_TEMPLATE_ID"),
    )


def find_account(code: str) -> Account | None:
    """The active account answering at /channels/wechat/<code>, or None."""
    if code == DEFAULT_CODE:
        env = environment_account()
        if env is not None:
            return env
    row = db.session.scalar(select(WeChatAccount).where(WeChatAccount.code == code))
    if row is None or not row.active:
        return None
    return from_row(row)


def account_for_appid(appid: str) -> Account | None:
    env = environment_account()
    if env is not None and env.appid == appid:
        return env
    row = db.session.scalar(select(WeChatAccount).where(WeChatAccount.appid == appid))
    return from_row(row) if row is not None and row.active else None


def from_row(row: WeChatAccount) -> Account:
    return Account(
        code=row.code, name=row.name, appid=row.appid, token=reveal(row.token_enc) or "",
        secret=reveal(row.secret_enc), aes_key=reveal(row.aes_key_enc),
        line_code=row.line_code, template_id=row.template_id, source="admin")


# -- secrets at rest ------------------------------------------------------------------------


def _fernet() -> Fernet:
    # A key of its own, derived from SECRET_KEY: the signed survey links use SECRET_KEY too,
    # and one must not be usable to forge or read the other.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hotline-wechat",
               info=b"account secrets").derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def conceal(value: str | None) -> str | None:
    """Encrypt a credential for storage (None stays None)."""
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode()


def reveal(stored: str | None) -> str | None:
    """Decrypt a stored credential. A value written under another SECRET_KEY cannot be read:
    the account then fails its signature checks instead of running with a wrong secret."""
    if stored is None:
        return None
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        current_app.logger.error("a WeChat account secret cannot be decrypted: was SECRET_KEY "
                                 "changed? Set the account's credentials again.")
        return None


def valid_aes_key(value: str) -> bool:
    """WeChat's EncodingAESKey: 43 characters of base64 that decode to 32 bytes."""
    if len(value) != 43:
        return False
    try:
        return len(base64.b64decode(value + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


# -- an admin's changes (the API and the console's page call these) ------------------------


def _line(code: str) -> str:
    from hotline.domain.errors import UnknownReference
    from hotline.models import Line

    line = db.session.scalar(select(Line).where(Line.code == code))
    if line is None:
        raise UnknownReference("unknown line", {"line": [f"No line {code!r}."]})
    return line.code


def _apply(row: WeChatAccount, data: dict[str, Any], by: str) -> None:
    for key in ("name", "template_id", "active"):
        if key in data:
            setattr(row, key, data[key])
    if "line" in data:
        row.line_code = _line(data["line"])
    if "token" in data:
        row.token_enc = conceal(data["token"]) or ""
    if "secret" in data:
        row.secret_enc = conceal(data["secret"])
    if "aes_key" in data:
        row.aes_key_enc = conceal(data["aes_key"])
    row.updated_by = by


def add_account(data: dict[str, Any], by: str) -> WeChatAccount:
    """Add an official account (data checked by `admin.AccountCreateSchema`) and commit; its
    credentials are stored encrypted and never shown again."""
    from hotline.domain.errors import Conflict

    env = environment_account()
    if data["code"] == DEFAULT_CODE and env is not None:
        raise Conflict("the default account comes from the environment (WECHAT_*)",
                       {"code": ["'default' is configured by the environment."]})
    if db.session.scalar(select(WeChatAccount).where(WeChatAccount.code == data["code"])):
        raise Conflict("an account with this code exists", {"code": ["Taken."]})
    if db.session.scalar(select(WeChatAccount).where(WeChatAccount.appid == data["appid"])) \
            or (env is not None and env.appid == data["appid"]):
        raise Conflict("this appid is configured already", {"appid": ["Taken."]})
    row = WeChatAccount(code=data["code"], appid=data["appid"], active=True)
    _apply(row, data, by)
    db.session.add(row)
    db.session.commit()
    return row


def account_row(code: str) -> WeChatAccount:
    """An account added by an admin (the environment's default one is not editable here)."""
    from hotline.domain.errors import Conflict, NotFound

    row = db.session.scalar(select(WeChatAccount).where(WeChatAccount.code == code))
    if row is None:
        if code == DEFAULT_CODE and environment_account() is not None:
            raise Conflict("the default account is configured by the environment (WECHAT_*)")
        raise NotFound(f"no WeChat account {code}")
    return row


def change_account(row: WeChatAccount, data: dict[str, Any], by: str) -> WeChatAccount:
    """Change an account's name, line, credentials or state (`admin.AccountUpdateSchema`) and
    commit."""
    _apply(row, data, by)
    db.session.commit()
    return row


# -- talking to WeChat (workers and the command line only: never from the webhook) ----------


def api_client(account: Account, redis: Any | None) -> Any:
    """A wechatpy client for the account whose access token is shared through Redis."""
    from channels.senders import DEFAULT_TIMEOUT, SharedTokenWeChatClient

    if not account.appid or not account.secret:
        raise RuntimeError(f"WeChat account {account.code!r} has no appid/secret configured")
    return SharedTokenWeChatClient(
        account.appid, account.secret, redis=redis,
        api_base_url=setting("WECHAT_API_BASE"),
        timeout=float(setting("SENDER_TIMEOUT") or DEFAULT_TIMEOUT))


def sender_for(account: Account, redis: Any | None) -> Any:
    """A `channels.senders.WeChatSender` for this account (customer-service messages inside
    the 48-hour window, the account's template outside it)."""
    from channels.senders import DEFAULT_TIMEOUT, WeChatSender

    if not account.appid or not account.secret:
        raise RuntimeError(f"WeChat account {account.code!r} has no appid/secret configured")
    return WeChatSender(
        account.appid, account.secret, redis=redis,
        api_base_url=setting("WECHAT_API_BASE"),
        template_id=account.template_id or setting("WECHAT_TEMPLATE_ID"),
        template_field=setting("WECHAT_TEMPLATE_FIELD") or "content",
        timeout=float(setting("SENDER_TIMEOUT") or DEFAULT_TIMEOUT))
