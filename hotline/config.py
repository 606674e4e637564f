"""Configuration from the environment (SPEC §4): outside services are named by env variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "WECHAT_TOKEN",
    "WECHAT_APPID",
    "WECHAT_SECRET",
    "WECHAT_AES_KEY",
    # how soon a silent worker or a waiting outbox fails /readyz?deep=1 (hotline/api/health.py)
    "WORKER_TTL",
    "OUTBOX_STALL_SECONDS",
)

TIMEZONE = "Asia/Shanghai"


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults, then the environment, then explicit overrides."""
    cfg: dict[str, Any] = {
        "SECRET_KEY": None,
        "DATABASE_URL": None,
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": None,
        # API bodies are small JSON; a webhook or upload that needs more sets its own limit.
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        "HOTLINE_TIMEZONE": TIMEZONE,
        "PER_PAGE_MAX": 100,
        "JSON_AS_ASCII": False,
    }
    for key in ENV_KEYS:
        if os.environ.get(key):
            cfg[key] = os.environ[key]
    if overrides:
        cfg.update(overrides)
    if not cfg.get("DATABASE_URL"):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "hotline.db")
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    url = cfg["DATABASE_URL"]
    if url.startswith("postgres://"):  # Heroku-style scheme that SQLAlchemy no longer accepts
        url = "postgresql://" + url[len("postgres://"):]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    return cfg


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers queue on SQLite's lock instead of failing at once under concurrent requests.
        return {"connect_args": {"timeout": 30}}
    if url.startswith("postgresql"):
        # Durable commits are part of the "nothing lost" promise; say so even if the server default
        # was changed by someone tuning for speed.
        return {"pool_pre_ping": True, "connect_args": {"options": "-c synchronous_commit=on"}}
    return {"pool_pre_ping": True}


def _instance_secret(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder, so signed links survive restarts."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
