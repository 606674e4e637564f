"""The staff console (坐席与承办工作台): server-rendered pages in Chinese under /console for
operators, department clerks, supervisors and admins, on an office screen and on a phone.

Pages call the same services and the same permission rules as the JSON API (`hotline.services`,
`hotline.domain.lifecycle`, `hotline.reports.scope`): a handler who gets 404 for a case in the
API gets the not-found page here. Sign-in is by username and password into a signed session
cookie (`session.py`); every form carries a CSRF token (`hotline.webforms`).
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask) -> None:
    from . import (  # noqa: F401  (routes and the sign-in guard)
        admin,
        case,
        department,
        desk,
        publications,
        queues,
        reports,
        session,
        settings,
        supervision,
        views,
    )

    app.register_blueprint(bp)


def extension_pages(name: str, import_name: str, url_prefix: str,
                    template_folder: str | None = None) -> Blueprint:
    """A blueprint for console pages another area adds (a channel's settings): behind the same
    sign-in guard and CSRF check as every console page, with the console's template globals,
    error pages and headers. Make it once, at the area's import; register it in its init_app."""
    from . import session, settings, views

    pages = Blueprint(name, import_name, url_prefix=url_prefix, template_folder=template_folder)
    pages.before_request(session.guard)
    pages.context_processor(views.console_globals)
    pages.context_processor(settings.settings_globals)
    pages.after_request(views.console_headers)
    for error, handler in views.ERROR_PAGES:
        pages.register_error_handler(error, handler)
    return pages
