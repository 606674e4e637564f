"""Who may call what: every route of the app × seven identities, each with the status it must
get, from one table. A route the table does not list fails the test, so no new route ships
without someone deciding who may call it.

The identities: no token, a bad token, the operator, a handler of the case's department, a
handler of another department, the supervisor and the admin. The rows run against a case logged
by the operator and dispatched to the handler's department (gz-hrss), with a web attachment and
a WeChat picture; every row that is not a GET gets a fresh one. The identities ask in the order
of the columns, so a row whose request changes the case (a handler signing for it) shows the
later identities the changed case. Requests that would create or change things send a body
that is refused after the gate (400/404/409) wherever the route allows it: the table is about
who gets past the gate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.identity import set_password
from hotline.models import Attachment, Case, User

from ..conftest import CASE, Api, make_tokens, seeded_app

IDENTITIES = ("anonymous", "bad_token", "operator", "handler", "other_handler", "supervisor",
              "admin")


@dataclass(frozen=True)
class Probe:
    """One request of a route and the statuses it must get, one per identity.

    `path` may name the row's objects: {number} (the case), {attachment} (its web file),
    {media} (its WeChat picture), {missing} (an id nothing has). `expect` is seven statuses in
    the order of IDENTITIES, separated by spaces.
    """

    path: str
    expect: str
    json: Any = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def statuses(self) -> tuple[int, ...]:
        codes = tuple(int(code) for code in self.expect.split())
        assert len(codes) == len(IDENTITIES), self.expect
        return codes


def admin_only(path: str, admin: int, **request: Any) -> Probe:
    """A route for admins alone: without a session or token it is 401 (the API) or the sign-in
    page (a console page: 302), for every other role 403; the admin gets `admin`."""
    outsider = 302 if path.startswith("/console") else 401
    return Probe(path, f"{outsider} {outsider} 403 403 403 403 {admin}", **request)


# HOW TO ADD A ROUTE: add one line `("METHOD", "<rule as in app.url_map>"): Probe(path,
# "anon bad operator handler other_handler supervisor admin")`, the seven statuses each
# identity must get, in that column order (a choice of words in a rule, `<any(csv, xlsx):fmt>`,
# is written `<any:fmt>`). Staff API rows: 401 for the first two columns, 403
# for a role the route is not for, 404 for a handler asking about another department's case.
# Console rows (/console/...): the five staff columns are that user signed in through the
# login form (`ConsoleBrowsers` below), the first two have no session (a console page sends
# them to /console/login: 302); a console form is sent with the page's CSRF token. A route
# for admins alone is `admin_only(path, the admin's status)`.
#                                                          anon bad op  hnd oth sup adm
ROUTES: dict[tuple[str, str], Probe] = {
    # --- cases and their lifecycle actions (the case is dispatched to the handler's department)
    ("POST", "/api/v1/cases"): Probe("/api/v1/cases", "401 401 400 403 403 400 400", json={}),
    ("GET", "/api/v1/cases"): Probe("/api/v1/cases", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/cases/<number>"): Probe(
        "/api/v1/cases/{number}", "401 401 200 200 404 200 200"),
    ("PATCH", "/api/v1/cases/<number>"): Probe(
        "/api/v1/cases/{number}", "401 401 400 400 404 400 400", json={}),
    ("GET", "/api/v1/cases/<number>/attachments/<int:attachment_id>"): Probe(
        "/api/v1/cases/{number}/attachments/{attachment}", "401 401 200 200 404 200 200"),
    ("POST", "/api/v1/cases/<number>/<any:action>"): Probe(
        "/api/v1/cases/{number}/accept", "401 401 403 200 404 403 409", json={}),
    ("GET", "/api/v1/cases/<number>/surveys"): Probe(
        "/api/v1/cases/{number}/surveys", "401 401 200 200 404 200 200"),
    # --- administration
    ("GET", "/api/v1/me"): Probe("/api/v1/me", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/departments"): Probe("/api/v1/departments", "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/departments"): admin_only("/api/v1/departments", 400, json={}),
    ("PATCH", "/api/v1/departments/<code>"): admin_only(
        "/api/v1/departments/gz-hrss", 400, json={"name": ""}),
    ("GET", "/api/v1/departments/<code>/contacts"): Probe(
        "/api/v1/departments/gz-hrss/contacts", "401 401 403 200 404 200 200"),
    ("POST", "/api/v1/departments/<code>/contacts"): admin_only(
        "/api/v1/departments/gz-hrss/contacts", 400, json={}),
    ("PATCH", "/api/v1/departments/<code>/contacts/<int:contact_id>"): admin_only(
        "/api/v1/departments/gz-hrss/contacts/{missing}", 404,
        json={}),
    ("DELETE", "/api/v1/departments/<code>/contacts/<int:contact_id>"): admin_only(
        "/api/v1/departments/gz-hrss/contacts/{missing}", 404),
    ("GET", "/api/v1/users"): admin_only("/api/v1/users", 200),
    ("POST", "/api/v1/users"): admin_only("/api/v1/users", 400, json={}),
    ("POST", "/api/v1/users/<name>/token"): admin_only("/api/v1/users/nobody/token", 404),
    ("GET", "/api/v1/users/<name>"): admin_only("/api/v1/users/nobody", 404),
    ("PATCH", "/api/v1/users/<name>"): admin_only("/api/v1/users/nobody", 404, json={}),
    ("POST", "/api/v1/users/<name>/password"): admin_only(
        "/api/v1/users/nobody/password", 404, json={}),
    ("POST", "/api/v1/users/<name>/unlock"): admin_only("/api/v1/users/nobody/unlock", 404),
    ("POST", "/api/v1/users/<name>/sign-out"): admin_only("/api/v1/users/nobody/sign-out", 404),
    ("DELETE", "/api/v1/users/<name>/token"): admin_only("/api/v1/users/nobody/token", 404),
    ("GET", "/api/v1/auth-events"): admin_only("/api/v1/auth-events", 200),
    ("GET", "/api/v1/audit"): admin_only("/api/v1/audit", 200),
    ("GET", "/api/v1/lines"): Probe("/api/v1/lines", "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/lines"): admin_only("/api/v1/lines", 400, json={}),
    ("GET", "/api/v1/lines/<code>"): Probe("/api/v1/lines/fupin", "401 401 200 200 200 200 200"),
    ("PATCH", "/api/v1/lines/<code>"): admin_only("/api/v1/lines/fupin", 400, json={"name": ""}),
    ("POST", "/api/v1/lines/<code>/categories"): admin_only(
        "/api/v1/lines/fupin/categories", 400, json={}),
    ("PATCH", "/api/v1/lines/<code>/categories/<cat_code>"): admin_only(
        "/api/v1/lines/fupin/categories/hardship", 400,
        json={"name": ""}),
    ("GET", "/api/v1/calendar/<int:year>"): Probe(
        "/api/v1/calendar/2026", "401 401 200 200 200 200 200"),
    ("PUT", "/api/v1/calendar/<int:year>"): admin_only("/api/v1/calendar/2026", 400, json={}),
    ("GET", "/api/v1/rules"): Probe("/api/v1/rules", "401 401 200 403 403 200 200"),
    ("POST", "/api/v1/rules"): admin_only("/api/v1/rules", 400, json={}),
    ("PATCH", "/api/v1/rules/<int:rule_id>"): admin_only("/api/v1/rules/{missing}", 404, json={}),
    ("DELETE", "/api/v1/rules/<int:rule_id>"): admin_only("/api/v1/rules/{missing}", 404),
    ("GET", "/api/v1/routing/models"): Probe(
        "/api/v1/routing/models", "401 401 403 403 403 200 200"),
    # No Redis in these tests: the admin is told the workers' queue cannot be reached.
    ("POST", "/api/v1/routing/models"): admin_only("/api/v1/routing/models", 503),
    ("POST", "/api/v1/routing/models/<int:model_id>/activate"): admin_only(
        "/api/v1/routing/models/{missing}/activate", 404),
    ("GET", "/api/v1/openapi.json"): Probe(
        "/api/v1/openapi.json", "200 200 200 200 200 200 200"),
    # --- supervision, follow-up and the outbox
    ("GET", "/api/v1/supervision/overdue"): Probe(
        "/api/v1/supervision/overdue", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/supervision/due-soon"): Probe(
        "/api/v1/supervision/due-soon", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/supervision/unsatisfied"): Probe(
        "/api/v1/supervision/unsatisfied", "401 401 403 403 403 200 200"),
    ("GET", "/api/v1/supervision/points"): Probe(
        "/api/v1/supervision/points", "401 401 403 403 403 200 200"),
    ("GET", "/api/v1/supervision/dead-letters"): Probe(
        "/api/v1/supervision/dead-letters", "401 401 200 403 403 200 200"),
    ("POST", "/api/v1/surveys/<int:survey_id>/handled"): Probe(
        "/api/v1/surveys/{missing}/handled", "401 401 403 403 403 404 404",
        json={"note": "已电话解释"}),
    ("GET", "/api/v1/outbox"): Probe(
        "/api/v1/outbox?case={number}", "401 401 200 200 404 200 200"),
    ("POST", "/api/v1/outbox/<int:message_id>/retry"): Probe(
        "/api/v1/outbox/{missing}/retry", "401 401 404 403 403 404 404"),
    ("POST", "/api/v1/outbox/<int:message_id>/resolve"): Probe(
        "/api/v1/outbox/{missing}/resolve", "401 401 400 403 403 400 400"),
    ("GET", "/api/v1/callbacks"): Probe("/api/v1/callbacks", "401 401 200 403 403 200 200"),
    ("POST", "/api/v1/callbacks/<int:task_id>/done"): Probe(
        "/api/v1/callbacks/{missing}/done", "401 401 404 403 403 404 404", json={}),
    # --- publication on the board
    ("GET", "/api/v1/publications"): Probe(
        "/api/v1/publications", "401 401 200 403 403 200 200"),
    ("GET", "/api/v1/publications/<number>"): Probe(
        "/api/v1/publications/{number}", "401 401 200 403 403 200 200"),
    ("PUT", "/api/v1/publications/<number>"): Probe(
        "/api/v1/publications/{number}", "401 401 400 403 403 400 400", json={}),
    ("POST", "/api/v1/publications/<number>/approve"): Probe(
        "/api/v1/publications/{number}/approve", "401 401 403 403 403 409 409", json={}),
    ("POST", "/api/v1/publications/<number>/withdraw"): Probe(
        "/api/v1/publications/{number}/withdraw", "401 401 400 403 403 400 400", json={}),
    # --- phone calls and the knowledge base
    ("GET", "/api/v1/calls"): Probe("/api/v1/calls", "401 401 200 403 403 200 200"),
    ("GET", "/api/v1/calls/figures"): Probe(
        "/api/v1/calls/figures", "401 401 200 403 403 200 200"),
    ("GET", "/api/v1/calls/<call_sid>"): Probe(
        "/api/v1/calls/CAnone", "401 401 404 403 403 404 404"),
    ("POST", "/api/v1/calls/<call_sid>/case"): Probe(
        "/api/v1/calls/CAnone/case", "401 401 404 403 403 404 404", json={}),
    ("GET", "/api/v1/knowledge"): Probe(
        "/api/v1/knowledge?q=低保", "401 401 200 403 403 200 200"),
    # --- reports
    ("GET", "/api/v1/stats/summary"): Probe(
        "/api/v1/stats/summary", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/stats/departments"): Probe(
        "/api/v1/stats/departments", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/stats/hot"): Probe("/api/v1/stats/hot", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/stats/phone"): Probe("/api/v1/stats/phone", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/stats/charts/<name>.<any:fmt>"): Probe(
        "/api/v1/stats/charts/nothing.svg", "401 401 404 404 404 404 404"),
    ("GET", "/api/v1/ledger.<any:fmt>"): Probe(
        "/api/v1/ledger.csv", "401 401 200 200 200 200 200"),
    ("GET", "/api/v1/bulletins"): Probe("/api/v1/bulletins", "401 401 200 200 200 200 200"),
    ("POST", "/api/v1/bulletins"): Probe(
        "/api/v1/bulletins", "401 401 403 403 403 400 400", json={"period": "x"}),
    ("GET", "/api/v1/bulletins/<int:bulletin_id>"): Probe(
        "/api/v1/bulletins/{missing}", "401 401 404 404 404 404 404"),
    ("GET", "/api/v1/bulletins/<int:bulletin_id>.<any:fmt>"): Probe(
        "/api/v1/bulletins/{missing}.html", "401 401 404 404 404 404 404"),
    # --- channels administered through the staff API
    ("GET", "/api/v1/wechat/accounts"): admin_only("/api/v1/wechat/accounts", 200),
    ("POST", "/api/v1/wechat/accounts"): admin_only("/api/v1/wechat/accounts", 400, json={}),
    ("GET", "/api/v1/wechat/accounts/<code>"): admin_only("/api/v1/wechat/accounts/nothing", 404),
    ("PATCH", "/api/v1/wechat/accounts/<code>"): admin_only(
        "/api/v1/wechat/accounts/nothing", 404, json={}),
    ("GET", "/api/v1/wechat/messages"): Probe(
        "/api/v1/wechat/messages?case={number}", "401 401 200 403 403 200 200"),
    ("GET", "/channels/wechat/media/<int:attachment_id>"): Probe(
        "/channels/wechat/media/{media}", "401 401 200 200 404 200 200"),
    ("GET", "/channels/web/attachments/<int:attachment_id>"): Probe(
        "/channels/web/attachments/{attachment}", "401 401 200 200 404 200 200"),
    ("GET", "/api/v1/open311/keys"): admin_only("/api/v1/open311/keys", 200),
    ("POST", "/api/v1/open311/keys"): admin_only("/api/v1/open311/keys", 400, json={}),
    ("DELETE", "/api/v1/open311/keys/<int:key_id>"): admin_only(
        "/api/v1/open311/keys/{missing}", 404),
    # --- public API: the same for everyone (a token neither helps nor hurts)
    ("GET", "/api/v1/public/cases/<number>"): Probe(
        "/api/v1/public/cases/{number}?phone_tail=2345", "200 200 200 200 200 200 200"),
    ("POST", "/api/v1/public/messages"): Probe(
        "/api/v1/public/messages", "400 400 400 400 400 400 400", json={}),
    ("GET", "/api/v1/public/board"): Probe(
        "/api/v1/public/board", "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/public/board/<number>"): Probe(
        "/api/v1/public/board/{number}", "404 404 404 404 404 404 404"),
    ("GET", "/api/v1/public/lines"): Probe(
        "/api/v1/public/lines", "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/public/surveys/<token>"): Probe(
        "/api/v1/public/surveys/forged", "404 404 404 404 404 404 404"),
    ("POST", "/api/v1/public/surveys/<token>"): Probe(
        "/api/v1/public/surveys/forged", "404 404 404 404 404 404 404", json={}),
    # --- public pages
    ("GET", "/board"): Probe("/board", "200 200 200 200 200 200 200"),
    ("GET", "/board/<number>"): Probe("/board/{number}", "404 404 404 404 404 404 404"),
    ("GET", "/status"): Probe("/status", "200 200 200 200 200 200 200"),
    ("POST", "/status"): Probe("/status", "400 400 400 400 400 400 400", form={}),
    ("GET", "/write"): Probe("/write", "200 200 200 200 200 200 200"),
    ("POST", "/write"): Probe("/write", "400 400 400 400 400 400 400", form={}),
    ("GET", "/write/done"): Probe("/write/done", "303 303 303 303 303 303 303"),
    ("GET", "/survey/<token>"): Probe("/survey/forged", "404 404 404 404 404 404 404"),
    ("POST", "/survey/<token>"): Probe("/survey/forged", "400 400 400 400 400 400 400",
                                       form={}),
    ("GET", "/web-static/<path:filename>"): Probe(
        "/web-static/board.css", "200 200 200 200 200 200 200"),
    ("GET", "/static/<path:filename>"): Probe(
        "/static/nothing.css", "404 404 404 404 404 404 404"),
    ("GET", "/healthz"): Probe("/healthz", "200 200 200 200 200 200 200"),
    ("GET", "/readyz"): Probe("/readyz", "503 503 503 503 503 503 503"),
    # metrics: loopback only (or METRICS_TOKEN); through a proxy no staff token opens them
    ("GET", "/metrics"): Probe("/metrics", "404 404 404 404 404 404 404",
                               headers={"X-Forwarded-For": "203.0.113.9"}),
    # --- Open311: its own API keys for writing, reading is public
    ("GET", "/open311/v2/discovery.<any:fmt>"): Probe(
        "/open311/v2/discovery.json", "200 200 200 200 200 200 200"),
    ("GET", "/open311/v2/services.<any:fmt>"): Probe(
        "/open311/v2/services.json", "200 200 200 200 200 200 200"),
    ("GET", "/open311/v2/services/<code>.<any:fmt>"): Probe(
        "/open311/v2/services/nothing.json", "404 404 404 404 404 404 404"),
    ("GET", "/open311/v2/requests.<any:fmt>"): Probe(
        "/open311/v2/requests.json", "200 200 200 200 200 200 200"),
    ("POST", "/open311/v2/requests.<any:fmt>"): Probe(
        "/open311/v2/requests.json", "403 403 403 403 403 403 403", form={}),
    ("GET", "/open311/v2/requests/<number>.<any:fmt>"): Probe(
        "/open311/v2/requests/{number}.json", "404 404 404 404 404 404 404"),
    ("GET", "/open311/v2/<path:rest>"): Probe(
        "/open311/v2/nothing", "404 404 404 404 404 404 404"),
    ("POST", "/open311/v2/<path:rest>"): Probe(
        "/open311/v2/nothing", "404 404 404 404 404 404 404", form={}),
    # --- webhooks: a signature, never a staff token, lets a request in (the tests configure
    # no default WeChat account, so its webhook is not there)
    ("GET", "/channels/wechat"): Probe("/channels/wechat", "404 404 404 404 404 404 404"),
    ("POST", "/channels/wechat"): Probe("/channels/wechat", "404 404 404 404 404 404 404"),
    ("GET", "/channels/wechat/<code>"): Probe(
        "/channels/wechat/nothing", "404 404 404 404 404 404 404"),
    ("POST", "/channels/wechat/<code>"): Probe(
        "/channels/wechat/nothing", "404 404 404 404 404 404 404"),
    **{("POST", f"/channels/twilio/{hook}"): Probe(
        f"/channels/twilio/{hook}", "403 403 403 403 403 403 403", form={})
       for hook in ("voice", "sms", "status", "recording", "message", "no-message", "wait",
                    "wait-key", "connect", "dequeue", "queue-result", "outbox-status",
                    "survey-call", "survey-call/answer")},
    # --- the staff console: signed in by session, never by token
    ("GET", "/console/"): Probe("/console/", "302 302 302 302 302 302 302"),
    ("GET", "/console/login"): Probe("/console/login", "200 200 200 200 200 200 200"),
    ("POST", "/console/login"): Probe("/console/login", "401 401 401 401 401 401 401",
                                      form={"username": "op1", "password": "wrong-pass"}),
    ("POST", "/console/logout"): Probe("/console/logout", "302 302 302 302 302 302 302",
                                       form={}),
    ("GET", "/console/password"): Probe("/console/password", "302 302 200 200 200 200 200"),
    ("POST", "/console/password"): Probe("/console/password", "302 302 400 400 400 400 400",
                                         form={"current": "wrong-pass"}),
    ("GET", "/console/cases"): Probe("/console/cases", "302 302 200 200 200 200 200"),
    ("GET", "/console/department"): Probe("/console/department", "302 302 200 200 200 200 200"),
    ("GET", "/console/department/feed"): Probe(
        "/console/department/feed", "302 302 404 200 200 404 404"),
    ("POST", "/console/department/cases/<number>/<action>"): Probe(
        "/console/department/cases/{number}/accept", "302 302 403 302 404 403 302", form={}),
    ("GET", "/console/cases/<number>"): Probe(
        "/console/cases/{number}", "302 302 200 200 404 200 200"),
    ("GET", "/console/cases/<number>/attachments/<int:attachment_id>"): Probe(
        "/console/cases/{number}/attachments/{attachment}", "302 302 200 200 404 200 200"),
    ("POST", "/console/cases/<number>/act/<action>"): Probe(
        "/console/cases/{number}/act/accept", "302 302 400 400 404 400 400", form={}),
    ("POST", "/console/cases/<number>/correct"): Probe(
        "/console/cases/{number}/correct", "302 302 400 400 404 400 400", form={}),
    ("GET", "/console/admin/users"): admin_only("/console/admin/users", 200),
    ("POST", "/console/admin/users"): admin_only("/console/admin/users", 400,
                                            form={}),
    ("GET", "/console/admin/users/<int:user_id>"): admin_only(
        "/console/admin/users/{missing}", 404),
    ("POST", "/console/admin/users/<int:user_id>/<action>"): admin_only(
        "/console/admin/users/{missing}/unlock", 404, form={}),
    ("GET", "/console/admin/auth-events"): admin_only("/console/admin/auth-events", 200),
    # the admin's settings pages (系统设置) and the audit list
    ("GET", "/console/admin"): admin_only("/console/admin", 200),
    ("GET", "/console/admin/departments"): admin_only("/console/admin/departments", 200),
    ("POST", "/console/admin/departments"): admin_only("/console/admin/departments", 400, form={}),
    ("GET", "/console/admin/departments/<code>"): admin_only(
        "/console/admin/departments/gz-hrss", 200),
    ("POST", "/console/admin/departments/<code>"): admin_only(
        "/console/admin/departments/gz-hrss", 400, form={"region": "5"}),
    ("POST", "/console/admin/departments/<code>/contacts"): admin_only(
        "/console/admin/departments/gz-hrss/contacts", 400, form={}),
    ("POST", "/console/admin/departments/<code>/contacts/<int:contact_id>/<any:action>"):
        admin_only("/console/admin/departments/gz-hrss/contacts/{missing}/pause", 404, form={}),
    ("GET", "/console/admin/lines"): admin_only("/console/admin/lines", 200),
    ("POST", "/console/admin/lines"): admin_only("/console/admin/lines", 400, form={}),
    ("POST", "/console/admin/lines/<code>"): admin_only(
        "/console/admin/lines/fupin", 400, form={"reply_days": "0"}),
    ("POST", "/console/admin/lines/<code>/categories"): admin_only(
        "/console/admin/lines/fupin/categories", 400, form={}),
    ("POST", "/console/admin/lines/<code>/categories/<cat_code>"): admin_only(
        "/console/admin/lines/fupin/categories/hardship", 400, form={"reply_days": "x"}),
    ("GET", "/console/admin/rules"): admin_only("/console/admin/rules", 200),
    ("GET", "/console/admin/rules/new"): admin_only("/console/admin/rules/new", 200),
    ("POST", "/console/admin/rules/new"): admin_only(
        "/console/admin/rules/new", 400, form={"priority": "x"}),
    ("GET", "/console/admin/rules/<int:rule_id>"): admin_only(
        "/console/admin/rules/{missing}", 404),
    ("POST", "/console/admin/rules/<int:rule_id>"): admin_only(
        "/console/admin/rules/{missing}", 404, form={}),
    ("POST", "/console/admin/rules/<int:rule_id>/delete"): admin_only(
        "/console/admin/rules/{missing}/delete", 404, form={}),
    ("GET", "/console/admin/calendar"): admin_only("/console/admin/calendar", 200),
    ("POST", "/console/admin/calendar/<int:year>"): admin_only(
        "/console/admin/calendar/2026", 400, form={"holidays": "x"}),
    ("GET", "/console/admin/audit"): admin_only("/console/admin/audit", 200),
    ("GET", "/console/admin/wechat"): admin_only("/console/admin/wechat", 200),
    ("POST", "/console/admin/wechat"): admin_only("/console/admin/wechat", 400, form={}),
    ("GET", "/console/admin/wechat/<code>"): admin_only("/console/admin/wechat/nope", 404),
    ("POST", "/console/admin/wechat/<code>"): admin_only(
        "/console/admin/wechat/nope", 404, form={}),
    ("GET", "/console/admin/open311"): admin_only("/console/admin/open311", 200),
    ("POST", "/console/admin/open311"): admin_only("/console/admin/open311", 400, form={}),
    ("POST", "/console/admin/open311/<int:key_id>/revoke"): admin_only(
        "/console/admin/open311/{missing}/revoke", 404, form={}),
    # the operator's desk and queues: operators, supervisors and admins; a clerk gets 403
    ("GET", "/console/desk"): Probe("/console/desk", "302 302 200 403 403 200 200"),
    ("POST", "/console/desk"): Probe("/console/desk", "302 302 400 403 403 400 400", form={}),
    ("GET", "/console/desk/assist"): Probe(
        "/console/desk/assist?line=fupin&content=低保申请", "302 302 200 403 403 200 200"),
    ("GET", "/console/desk/knowledge"): Probe(
        "/console/desk/knowledge?q=低保", "302 302 200 403 403 200 200"),
    ("GET", "/console/calls/<call_sid>"): Probe(
        "/console/calls/CA404", "302 302 404 403 403 404 404"),
    ("POST", "/console/calls/<call_sid>"): Probe(
        "/console/calls/CA404", "302 302 404 403 403 404 404", form={}),
    ("GET", "/console/calls/<call_sid>/recording"): Probe(
        "/console/calls/CA404/recording", "302 302 404 403 403 404 404"),
    ("GET", "/console/queues"): Probe("/console/queues", "302 302 302 403 403 302 302"),
    ("GET", "/console/queues/<name>"): Probe(
        "/console/queues/received", "302 302 200 403 403 200 200"),
    ("POST", "/console/queues/dispatch/<number>"): Probe(
        "/console/queues/dispatch/{number}", "302 302 409 403 403 409 409", form={}),
    # the supervisor's pages (督办台): supervisors and admins; publications: the API's editors
    ("GET", "/console/supervision"): Probe(
        "/console/supervision", "302 302 403 403 403 200 200"),
    ("GET", "/console/supervision/<name>"): Probe(
        "/console/supervision/overdue", "302 302 403 403 403 200 200"),
    ("POST", "/console/supervision/cases/<number>/<action>"): Probe(
        "/console/supervision/cases/{number}/instruct", "302 302 403 403 403 302 302", form={}),
    ("POST", "/console/supervision/surveys/<int:survey_id>/handled"): Probe(
        "/console/supervision/surveys/{missing}/handled", "302 302 403 403 403 404 404",
        form={}),
    ("POST", "/console/supervision/outbox/<int:message_id>/<any:what>"): Probe(
        "/console/supervision/outbox/{missing}/retry", "302 302 403 403 403 404 404", form={}),
    ("GET", "/console/publications"): Probe(
        "/console/publications", "302 302 200 403 403 200 200"),
    ("GET", "/console/publications/<number>"): Probe(
        "/console/publications/{number}", "302 302 200 403 403 200 200"),
    ("POST", "/console/publications/<number>/<any:what>"): Probe(
        "/console/publications/{number}/save", "302 302 400 403 403 400 400", form={}),
    # reports: every signed-in person, a handler with their own department's figures
    ("GET", "/console/reports"): Probe("/console/reports", "302 302 200 200 200 200 200"),
    ("GET", "/console/reports/charts/<name>.svg"): Probe(
        "/console/reports/charts/volume.svg", "302 302 200 200 200 200 200"),
    ("GET", "/console/reports/ledger.<any:fmt>"): Probe(
        "/console/reports/ledger.csv", "302 302 200 200 200 200 200"),
    ("POST", "/console/reports/bulletins"): Probe(
        "/console/reports/bulletins", "302 302 403 403 403 302 302", form={"period": "2026-13"}),
    ("GET", "/console/reports/bulletins/<int:bulletin_id>.<any:fmt>"): Probe(
        "/console/reports/bulletins/{missing}.html", "302 302 404 404 404 404 404"),
    ("GET", "/console/static/<path:filename>"): Probe(
        "/console/static/console.css", "200 200 200 200 200 200 200"),
}


class ConsoleBrowsers:
    """Browsers for the console rows: the staff identities signed in through the login form
    (their users get a password first), the first two with no session at all. A browser stays
    signed in from row to row; after a row that may have ended its session (signing out) it is
    signed in again (a sign-in is a deliberately slow password hash: once per row made this
    test spend most of its time hashing)."""

    PASSWORD = "热线-Pass-2026"

    def __init__(self, app: Any, names: dict[str, str]):
        self.app, self.names = app, names
        self._signed_in: dict[str, Any] = {}

    def client(self, identity: str) -> Any:
        if identity not in self.names:
            return self.app.test_client()
        if identity not in self._signed_in:
            user = db.session.scalar(select(User).where(User.name == self.names[identity]))
            if not user.password_hash:
                set_password(user, self.PASSWORD)
                db.session.commit()
            client = self.app.test_client()
            resp = client.post("/console/login", data={
                "csrf_token": self.csrf(client), "username": user.name,
                "password": self.PASSWORD})
            assert resp.status_code == 302, resp.get_data(as_text=True)
            self._signed_in[identity] = client
        return self._signed_in[identity]

    def recheck(self, identity: str) -> None:
        """After a row that may have ended the session: keep the browser only if it is still
        signed in (every staff identity gets its case search)."""
        client = self._signed_in.get(identity)
        if client is not None and client.get("/console/cases").status_code != 200:
            del self._signed_in[identity]

    @staticmethod
    def csrf(client: Any) -> str:
        html = client.get("/console/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "the console's login page has no CSRF token"
        return match.group(1)


def _rule(rule: str) -> str:
    """A rule as the table names it: a choice of words is `<any:name>` whatever the words."""
    return re.sub(r"<any\([^)]*\):(\w+)>", r"<any:\1>", rule)


def _rules(app: Any) -> set[tuple[str, str]]:
    return {(method, _rule(rule.rule)) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


@dataclass
class World:
    number: str
    attachment: int
    media: int
    missing: int = 999_999

    def fill(self, path: str) -> str:
        return path.format(number=self.number, attachment=self.attachment, media=self.media,
                           missing=self.missing)


def _new_world(app: Any, api: Any, operator: str) -> World:
    """A case in gz-hrss's hands with a web attachment and a WeChat picture on disk."""
    from channels.wechat.media import media_folder
    from hotline.attachments import upload_folder

    resp = api.post("/cases", operator, {**CASE, "channel": "wechat"})
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    resp = api.post(f"/cases/{number}/dispatch", operator, {"department": "gz-hrss"})
    assert resp.status_code == 200, resp.get_json()
    case = db.session.query(Case).filter_by(number=number).one()
    ids = []
    for folder, kind in ((upload_folder(), "document"), (media_folder(), "image")):
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{number}-{kind}.jpg"
        (folder / name).write_bytes(b"\xff\xd8\xff\xe0 picture")
        item = Attachment(case_id=case.id, kind=kind, media_id=name, filename=name,
                          content_type="image/jpeg", size=18)
        db.session.add(item)
        db.session.flush()
        ids.append(item.id)
    db.session.commit()
    return World(number=number, attachment=ids[0], media=ids[1])


# The users behind the tokens, for the console's sign-in.
USER_NAMES = {"operator": "op1", "handler": "hrss1", "other_handler": "gy1",
              "supervisor": "sup1", "admin": "admin1"}


@dataclass
class Matrix:
    """What the rows share: one app and database for the module, the identities' tokens,
    the signed-in console browsers, and the case the GET rows look at."""

    app: Any
    api: Api
    identities: dict[str, str | None]
    browsers: ConsoleBrowsers
    reading: World


@pytest.fixture(scope="module")
def matrix(_migrated: dict[str, Any]) -> Iterator[Matrix]:
    with seeded_app(_migrated) as app:
        tokens = make_tokens()
        identities = {"anonymous": None, "bad_token": "not-a-token",
                      "operator": tokens.operator, "handler": tokens.handler,
                      "other_handler": tokens.other_handler, "supervisor": tokens.supervisor,
                      "admin": tokens.admin}
        api = Api(app.test_client())
        yield Matrix(app, api, identities, ConsoleBrowsers(app, USER_NAMES),
                     _new_world(app, api, tokens.operator))


def test_every_route_has_a_row_in_the_table(matrix):
    served = _rules(matrix.app)
    missing = sorted(served - ROUTES.keys())
    assert not missing, f"routes without a row in ROUTES (say who may call them): {missing}"
    stale = sorted(ROUTES.keys() - served)
    assert not stale, f"rows for routes the app does not serve: {stale}"


@pytest.mark.parametrize(("method", "rule"), list(ROUTES), ids=[f"{m} {r}" for m, r in ROUTES])
def test_each_identity_gets_the_status_the_table_says(matrix, method, rule):
    probe = ROUTES[(method, rule)]
    app, identities, browsers = matrix.app, matrix.identities, matrix.browsers
    # A GET row reads the module's case; a row that may change things gets its own case.
    world = matrix.reading if method == "GET" else \
        _new_world(app, matrix.api, identities["operator"])
    path = world.fill(probe.path)
    console = rule.startswith("/console")
    wrong = []
    for identity, expected in zip(IDENTITIES, probe.statuses(), strict=True):
        token = identities[identity]
        headers = dict(probe.headers)
        if token and not console:
            headers["Authorization"] = f"Bearer {token}"
        elif identity == "bad_token":
            headers["Authorization"] = "Bearer not-a-token"
        client = browsers.client(identity) if console else app.test_client()
        kwargs: dict[str, Any] = {"headers": headers}
        if probe.json is not None:
            kwargs["json"] = probe.json
        elif probe.form is not None:
            # A console form carries the page's CSRF token, so the gate is what decides.
            kwargs["data"] = {"csrf_token": browsers.csrf(client), **probe.form} \
                if console else probe.form
        got = client.open(path, method=method, **kwargs).status_code
        if console and method != "GET":
            browsers.recheck(identity)
        if got != expected:
            wrong.append(f"{method} {path} as {identity}: {got}, the table says {expected}")
    assert not wrong, "\n".join(wrong)
