"""The WeChat channel: citizens write to the official account (公众号), get a case number,
check their cases and answer the survey there.

- `webhook`: `GET/POST /channels/wechat` (the account of WECHAT_*) and
  `/channels/wechat/<account>` (accounts added through `/api/v1/wechat/accounts`);
- `conversation`: what each message does (intake, status, 我的, survey, phone binding);
- `outbound`: what the workers need to message a WeChat citizen (account, 48-hour window);
- `media`: pictures and voice fetched from WeChat by a periodic job, served to staff;
- `cli`: `hotline wechat-menu`, `hotline wechat-send`, `hotline wechat-fetch-media`.

The webhook only checks, stores (the core's inbox) and acknowledges: the conversation runs in
a worker, its reply goes out through the outbox as a customer-service message, and everything
that calls WeChat's API (replies, status updates, the survey, the menu) runs in workers or
commands.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (register the tables on the shared metadata)
    from .admin import bp as admin_bp
    from .console import bp as console_bp
    from .media import bp as media_bp
    from .webhook import bp as webhook_bp

    app.register_blueprint(webhook_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(console_bp)  # the admin's page of accounts in the staff console
