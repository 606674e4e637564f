"""Configuration from the environment: outside services are named by environment variables.

Without DATABASE_URL or SECRET_KEY, a one-machine install keeps them in the instance folder (a
SQLite database, a secret key made at first run; `hotline run` adds the embedded Redis's
password and append-only file): what is made there is for its owner only — folders 0700,
files 0600 — since the database holds citizens' names, phones and complaints.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
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
    # who may read /metrics besides loopback (hotline/metrics.py)
    "METRICS_TOKEN",
)

# Whole numbers that may also come from the environment: the staff console's idle timeout and
# its sign-in locks (hotline.domain.staff.LockPolicy).
INT_ENV_KEYS = (
    "CONSOLE_IDLE_MINUTES",
    "SIGN_IN_LOCK_FAILURES",
    "SIGN_IN_LOCK_MINUTES",
    "SIGN_IN_ADDRESS_FAILURES",
    "SIGN_IN_ADDRESS_MINUTES",
    # how many reverse proxies stand in front of the app (see trusted_proxies)
    "TRUSTED_PROXIES",
)
# Earlier names of TRUSTED_PROXIES (the board's and the phone channel's), still read.
PROXY_KEYS = ("TRUSTED_PROXIES", "WEB_TRUSTED_PROXIES", "TRUSTED_PROXY_COUNT")

# Set by `hotline run` for the web server and the worker it starts: the address it serves on.
SERVER_URL_ENV = "HOTLINE_SERVER_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # `hotline run`'s own default address
DEFAULT_IMPORT_HORIZON_YEARS = 20


_TRUE = frozenset({"1", "true", "yes", "on"})


def setting(name: str, default: Any = None, *, config: Mapping[str, Any] | None = None) -> Any:
    """One setting: from the configuration (tests, `create_app(config)`, the admin's), else
    from the environment (a `hotline worker` started by an operator), else `default`. An empty
    value counts as unset. A text value takes the type of `default`: "5" → 5 for an int
    default, "true"/"1"/"yes"/"on" → True for a bool one. The one way every area reads a
    setting that may come from either place."""
    value = config.get(name) if config is not None else None
    if value is None or value == "":
        value = os.environ.get(name)
    if value is None or value == "":
        return default
    if default is None or not isinstance(value, str):
        return value
    if isinstance(default, bool):
        return value.strip().lower() in _TRUE
    try:
        return type(default)(value)
    except ValueError:
        raise ValueError(f"{name} must be a {type(default).__name__}, not {value!r}") from None


def trusted_proxies(config: Any) -> int:
    """How many reverse proxies stand in front of the app: their X-Forwarded-* headers are
    believed, for the client's address (rate limits, sign-in locks) and for the request's URL
    (Twilio's signature). One setting, ``TRUSTED_PROXIES`` (0 by default: the app is reached
    directly); the earlier names ``WEB_TRUSTED_PROXIES`` and ``TRUSTED_PROXY_COUNT`` are still
    read, from the configuration or the environment."""
    for key in PROXY_KEYS:
        value = setting(key, None, config=config)
        if value is not None:
            return max(0, int(value))
    return 0


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults, then the environment, then explicit overrides."""
    cfg: dict[str, Any] = {
        "SECRET_KEY": None,
        "DATABASE_URL": None,
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": None,
        # API bodies are small JSON; a webhook or upload that needs more sets its own limit.
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        "PER_PAGE_MAX": 100,
        # How far back a case may be logged (`received_at`): an operator logging a call late or
        # an admin importing history; older is a typo (year 0336) or a wrong import.
        "IMPORT_HORIZON_YEARS": int(os.environ.get("HOTLINE_IMPORT_HORIZON_YEARS") or
                                    DEFAULT_IMPORT_HORIZON_YEARS),
        "JSON_AS_ASCII": False,
    }
    for key in ENV_KEYS:
        if os.environ.get(key):
            cfg[key] = os.environ[key]
    for key in INT_ENV_KEYS:
        if os.environ.get(key):
            try:
                cfg[key] = int(os.environ[key])
            except ValueError:
                raise ValueError(f"{key} must be a whole number, not {os.environ[key]!r}") from None
    if os.environ.get(SERVER_URL_ENV):
        cfg["SERVER_URL"] = os.environ[SERVER_URL_ENV]
    if overrides:
        cfg.update(overrides)
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + str(private_file(Path(instance_path) / "hotline.db"))
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
        # was changed by someone tuning for speed. A pooled connection is pinged only after it
        # rested (hotline.engines), not at every checkout.
        return {"connect_args": {"options": "-c synchronous_commit=on"}}
    return {"pool_pre_ping": True}


def _instance_secret(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder, so signed links survive restarts."""
    return instance_secret(instance_path, "secret_key")


def instance_secret(instance_path: str | Path, name: str) -> str:
    """The secret kept in file `name` of the instance folder, made at first use (owner-only)."""
    path = Path(instance_path) / name
    private_folder(path.parent)
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def private_folder(path: str | Path) -> Path:
    """Make folder `path` (and its parents) if missing; one made here is owner-only (0700)."""
    path = Path(path)
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def private_file(path: str | Path) -> Path:
    """Create an empty owner-only (0600) file at `path` unless it exists — before a library
    creates it with the process's umask (SQLite gives its -wal and -shm files the database
    file's mode)."""
    path = Path(path)
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path


def server_url(host: str, port: int) -> str:
    """The address of a server bound to host:port, as a link should name it: a wildcard bind
    (0.0.0.0, ::) is reached by the machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def base_url(config: Any) -> str:
    """Where links to this server start (a citizen's survey link, Twilio's callbacks), without
    a trailing slash: ``PUBLIC_BASE_URL``; else the address `hotline run` serves on (it sets
    ``HOTLINE_SERVER_URL`` for its web server and worker alike, so both write the same links);
    else, in a request, the request's own host; else ``http://127.0.0.1:8000``."""
    from flask import has_request_context, request

    base = config.get("PUBLIC_BASE_URL") or config.get("SERVER_URL")
    if not base:
        base = request.host_url if has_request_context() else DEFAULT_BASE_URL
    return base.rstrip("/")
