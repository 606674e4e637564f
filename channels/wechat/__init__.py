"""The WeChat channel: citizens write to the official account (公众号), get a case number,
check their cases and answer the survey there.

- `webhook`: `GET/POST /channels/wechat` (the account of WECHAT_*) and
  `/channels/wechat/<account>` (accounts added through `/api/v1/wechat/accounts`);
- `conversation`: what each message does (intake, status, 我的, survey, phone binding);
- `outbound`: what the workers need to message a WeChat citizen (account, 48-hour window);
- `media`: pictures and voice fetched from WeChat by a periodic job, served to staff;
- `cli`: `hotline wechat-menu`, `hotline wechat-send`, `hotline wechat-fetch-media`.

The webhook only stores and answers: routing runs in the core's intake hooks, and everything
that calls WeChat's API (status updates, the survey, the menu) runs in workers or commands.
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
    _document_api()


def _document_api() -> None:
    from hotline.api.openapi import EXTRA_PATHS

    from .admin import AccountCreateSchema, AccountUpdateSchema, MessagesQuerySchema

    paths = [
        ("/wechat/accounts", "get", "WeChat official accounts (credentials never shown)", None,
         None, ["wechat"]),
        ("/wechat/accounts", "post", "Add a WeChat official account with its webhook address",
         AccountCreateSchema, None, ["wechat"], (201,)),
        ("/wechat/accounts/{code}", "get", "One WeChat official account", None, None,
         ["wechat"]),
        ("/wechat/accounts/{code}", "patch", "Change an account's line, credentials or state",
         AccountUpdateSchema, None, ["wechat"]),
        ("/wechat/messages", "get",
         "Messages a WeChat citizen sent (?openid= or ?case=) and the replies given",
         MessagesQuerySchema, None, ["wechat"]),
    ]
    known = {(p[0], p[1]) for p in EXTRA_PATHS}
    # create_app runs many times in one process (tests): add each path once.
    EXTRA_PATHS.extend(p for p in paths if (p[0], p[1]) not in known)
