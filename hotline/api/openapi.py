"""The OpenAPI document of the staff and public API, generated from the code: the operations
of the list below and the `PATHS` of the modules in `PATH_MODULES`, their bodies and query strings from the
marshmallow schemas, their path parameters from the app's own URL rules (an integer id is an
integer, a file format one of the formats served), and their answers from what the views do.

Every operation lists the statuses it can answer with, each error in the error format of
`errors.py`: 400 for bad input (a body, a query string or a path parameter), 401 and 403 for
the staff API's token and role, 404 when the path or the query names something (a case, a user,
a line) that is not there or not visible, 409 for a conflict (a stale version, an illegal
transition, a name taken), 413 for a body over the size limit, 422 for a body or a filter naming
something that does not exist, 429 for the public API's rate limits. A test walks the app's URL map against this document, and a fuzzer sends what it
describes: no served route can be missing from it, and no answer can contradict it.
"""

from __future__ import annotations

import importlib
import itertools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify
from werkzeug.routing import Rule

from ..domain.lifecycle import ACTIONS
from ..wiring import CORE, wired
from . import api, schemas

PREFIX = "/api/v1"

# The modules that document their own operations in a `PATHS` list, each entry (path, method,
# summary, request schema or None, response schema or None, tags[, success statuses[, other
# errors]]); the request schema of a GET is its query string. The success statuses default to
# (200,); a POST that creates says (201,), or (200, 201) when a retry answers 200. Other errors:
# {status: description} beyond the ones every operation of its kind has (see the module's
# docstring). (area, module): a module is read when its area is wired (`hotline.wiring`).
PATH_MODULES: tuple[tuple[str, str], ...] = (
    ("core", "hotline.api.calls"),
    ("core", "hotline.api.contacts"),
    ("core", "hotline.api.followup"),
    ("core", "hotline.api.outbox"),
    ("core", "hotline.api.publication"),
    ("core", "hotline.api.rules"),
    ("core", "hotline.api.stats"),
    ("core", "hotline.api.supervision"),
    ("routing", "routing.api"),
    ("wechat", "channels.wechat.admin"),
    ("web", "channels.web.api"),
    ("open311", "channels.open311.admin"),
)

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object"}}}},
}

_PATHS: list[tuple] = [
    ("/cases", "post", "Log a case (intake); Idempotency-Key makes retries safe",
     schemas.CaseCreateSchema, schemas.CaseDetailSchema, ["cases"], (200, 201)),
    ("/cases", "get", "List cases, filtered, sorted and paginated",
     schemas.CaseListQuerySchema, schemas.CASE_PAGE, ["cases"]),
    ("/cases/{number}", "get", "One case with its timeline", None, schemas.CaseDetailSchema,
     ["cases"]),
    ("/cases/{number}", "patch",
     ("Correct intake's category, region, citizen details or content (operators, supervisors, "
     "admins) with the version read: 409 stale_version when the case changed since; old and "
     "new values go on the timeline as a `correct` step"),
     schemas.CaseCorrectionSchema, schemas.CaseDetailSchema, ["cases"]),
    ("/cases/{number}/attachments/{attachment_id}", "get",
     "One file of a case (a reply's document, a citizen's photo), scoped like the case", None,
     None, ["cases"]),
    ("/me", "get", "The caller: name, role and department", None, schemas.UserSchema,
     ["admin"]),
    ("/departments", "get", "List departments", None, None, ["admin"]),
    ("/departments", "post", "Create a department", schemas.DepartmentSchema, None, ["admin"],
     (201,)),
    ("/departments/{code}", "patch", "Change a department", schemas.DepartmentUpdateSchema, None,
     ["admin"]),
    ("/users", "get", "List users", None, None, ["admin"]),
    ("/users", "post", ("Create a user (an initial `password` must be changed at the first "
     "sign-in; `token_days` makes the token expire); the answer carries its API token once"),
     schemas.UserCreateSchema, schemas.UserWithTokenSchema, ["admin"], (201,)),
    ("/users/{name}", "get", "One user, with lock and API token state", None,
     schemas.UserSchema, ["admin"]),
    ("/users/{name}", "patch", ("Change role/department (ends the user's sessions), or "
     "deactivate/reactivate (`active`)"), schemas.UserUpdateSchema, schemas.UserSchema,
     ["admin"]),
    ("/users/{name}/password", "post", ("Reset the password: a new one must be chosen at the next "
     "sign-in"), schemas.PasswordResetSchema, schemas.UserSchema, ["admin"]),
    ("/users/{name}/unlock", "post", "Lift a lock left by wrong passwords", None,
     schemas.UserSchema, ["admin"]),
    ("/users/{name}/sign-out", "post", "End every console session of the user", None,
     schemas.UserSchema, ["admin"]),
    ("/users/{name}/token", "post", ("Issue a new API token (the old one stops; `days` makes it "
     "expire); the answer carries it once"), schemas.TokenIssueSchema,
     schemas.UserWithTokenSchema, ["admin"]),
    ("/users/{name}/token", "delete", "Revoke the user's API token", None, schemas.UserSchema,
     ["admin"]),
    ("/auth-events", "get", ("The account log, newest first: sign-ins, failures, locks and every "
     "change to an account"), schemas.AuthEventQuerySchema,
     schemas.page_schema(schemas.AuthEventSchema), ["admin"]),
    ("/audit", "get", ("The audit list of admin changes, newest first: who changed which user, "
     "department, contact, line, category, rule, calendar year, WeChat account, Open311 key or "
     "routing model, when, through what (api, console, cli), old and new values (never a "
     "secret's); filter by kind, target, actor"), schemas.AuditQuerySchema,
     schemas.page_schema(schemas.AuditEntrySchema), ["admin"]),
    ("/lines", "get", "List lines with their categories", None, None, ["admin"]),
    ("/lines", "post", "Create a line", schemas.LineSchema, None, ["admin"], (201,)),
    ("/lines/{code}", "get", "One line with its categories", None, None, ["admin"]),
    ("/lines/{code}", "patch", "Change a line", schemas.LineUpdateSchema, None, ["admin"]),
    ("/lines/{code}/categories", "post", "Add a category to a line", schemas.CategorySchema,
     None, ["admin"], (201,)),
    ("/lines/{code}/categories/{cat_code}", "patch", "Change a category of a line",
     schemas.CategoryUpdateSchema, None, ["admin"]),
    ("/calendar/{year}", "get", "The working-day calendar of a year and its source", None,
     schemas.CalendarOutSchema, ["calendar"]),
    ("/calendar/{year}", "put", "Set a year's holidays and adjusted workdays (调休)",
     schemas.CalendarSchema, schemas.CalendarOutSchema, ["calendar"]),
    ("/openapi.json", "get", "This document", None, None, ["meta"]),
]

# Paths anyone may call: no token, and rate-limited per client instead.
PUBLIC = ("/public/", "/openapi.json")
_BODY_METHODS = ("post", "put", "patch", "delete")
_PARAMETER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _responses(path: str, method: str, ok: tuple[int, ...], response: object,
               has_input: bool) -> dict:
    public = path.startswith(PUBLIC)
    answers: dict[str, dict] = {}
    for status in ok:
        answer: dict = {"description": "created" if status == 201 else "success"}
        if status == 204:
            answer["description"] = "done; no content"
        elif response is not None:
            answer["content"] = {"application/json": {"schema": response}}
        answers[str(status)] = answer
    if has_input or "{" in path:
        answers["400"] = _error("bad input: the fields that are wrong are named")
    if not public:
        answers["401"] = _error("no token, or an unknown or revoked one")
        answers["403"] = _error("the caller's role may not do this")
    if "{" in path or (has_input and method == "get"):
        answers["404"] = _error("nothing of that name (or not visible to the caller)")
    if has_input and method == "get":
        answers["422"] = _error("a filter names something that does not exist")
    if method in _BODY_METHODS:
        answers["409"] = _error("conflict: a stale version, an illegal transition, a name "
                                "taken, an Idempotency-Key used for another request")
        answers["413"] = _error("the body is over the size limit")
        answers["422"] = _error("the body names something that does not exist")
    if public and path != "/openapi.json":
        answers["429"] = _error("too many requests from this client; see Retry-After")
    return answers


def openapi_paths(rule: Rule) -> list[str]:
    """The document's paths of a served rule under /api/v1: `<int:year>` is `{year}`, and a
    choice of literals (`<any(csv,xlsx):fmt>`) gives one path per literal."""
    if not rule.rule.startswith(PREFIX + "/"):
        return []
    pieces: list[list[str]] = []
    rest = rule.rule[len(PREFIX):]
    position = 0
    for match in _PARAMETER.finditer(rest):
        pieces.append([rest[position:match.start()]])
        converter, args, name = match.groups()
        if converter == "any":
            pieces.append([a.strip().strip("'\"") for a in args.split(",")])
        else:
            pieces.append([f"{{{name}}}"])
        position = match.end()
    pieces.append([rest[position:]])
    return ["".join(parts) for parts in itertools.product(*pieces)]


def _path_parameters(path: str, method: str) -> list[dict]:
    """The path's parameters, typed as the served rule converts them."""
    names = re.findall(r"\{([^}]+)\}", path)
    if not names:
        return []
    converters: dict[str, str] = {}
    for rule in current_app.url_map.iter_rules():
        if method.upper() in (rule.methods or ()) and path in openapi_paths(rule):
            converters = {name: converter or "default"
                          for converter, _, name in _PARAMETER.findall(rule.rule)}
            break
    params = []
    for name in names:
        if converters.get(name) == "int":
            schema: dict = {"type": "integer", "minimum": 0}
        else:  # one path segment
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _operation(path: str, method: str, summary: str, req: object, resp: object,
               tags: list[str], ok: tuple[int, ...] = (200,),
               errors: dict[int, str] | None = None, *, operation_id: str | None = None) -> dict:
    op: dict = {"summary": summary, "tags": tags,
                "operationId": operation_id or f"{method}_{re.sub(r'[^a-z0-9]+', '_', path)}"
                .rstrip("_")}
    if not path.startswith(PUBLIC):
        op["security"] = [{"bearer": []}]
    params = _path_parameters(path, method)
    if req is not None and method == "get":
        params.append({"in": "query", "schema": req})  # expanded into one per field
    elif req is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": req}}}
    if params:
        op["parameters"] = params
    op["responses"] = _responses(path, method, ok, resp, req is not None)
    for status, description in (errors or {}).items():
        op["responses"][str(status)] = _error(description)
    return op


def documented_paths() -> list[tuple]:
    """The operations the modules of `PATH_MODULES` document, for the current app's areas."""
    return [entry for area, module in PATH_MODULES if area == CORE or wired(area)
            for entry in importlib.import_module(module).PATHS]


def build_spec() -> dict:
    """The document, for the app of the current context."""
    spec = APISpec(
        title="Hotline API", version="1", openapi_version="3.0.3",
        info={"description": "Staff and public API of the Hotline citizen hotline backend. "
              "Staff send `Authorization: Bearer <token>`; /public needs no token."},
        plugins=[MarshmallowPlugin()],
        servers=[{"url": PREFIX}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", _ERROR)
    paths: dict[str, dict] = {}
    for entry in _PATHS + documented_paths():
        path, method = entry[0], entry[1]
        paths.setdefault(path, {})[method] = _operation(*entry)
    for action, schema in schemas.ACTION_SCHEMAS.items():
        rule = ACTIONS[action]
        path = f"/cases/{{number}}/{action}"
        summary = (f"{action}: from {', '.join(sorted(rule.sources or []))}; "
                   f"for {', '.join(sorted(rule.roles))}")
        op = _operation(path, "post", summary, schema, schemas.CaseDetailSchema, ["lifecycle"],
                        operation_id=f"action_{action.replace('-', '_')}")
        op["requestBody"]["required"] = False  # an action without fields may send no body
        op["responses"]["200"]["description"] = "the case after the action"
        paths[path] = {"post": op}
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


@api.get("/openapi.json")
def openapi_document():
    return jsonify(build_spec())
