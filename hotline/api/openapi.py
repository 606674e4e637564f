"""The OpenAPI document of the staff and public API, generated from the marshmallow schemas."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify

from ..domain.lifecycle import ACTIONS
from . import api, schemas

# Other areas (public pages, channels, workers) add their paths here at import time:
# (path, method, summary, request schema or None, response schema or None, tags); the request
# schema of a GET is its query string.
EXTRA_PATHS: list[tuple[str, str, str, object, object, list[str]]] = []

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object"}}}},
}

_PATHS: list[tuple[str, str, str, object, object, list[str]]] = [
    ("/cases", "post", "Log a case (intake); Idempotency-Key makes retries safe",
     schemas.CaseCreateSchema, schemas.CaseDetailSchema, ["cases"]),
    ("/cases", "get", "List cases, filtered, sorted and paginated",
     schemas.CaseListQuerySchema, schemas.page_schema(schemas.CaseSchema), ["cases"]),
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
    ("/departments", "get", "List departments", None, None, ["admin"]),
    ("/departments", "post", "Create a department", schemas.DepartmentSchema, None, ["admin"]),
    ("/departments/{code}", "patch", "Change a department", schemas.DepartmentUpdateSchema, None,
     ["admin"]),
    ("/users", "get", "List users", None, None, ["admin"]),
    ("/users", "post", ("Create a user (an initial `password` must be changed at the first "
     "sign-in; `token_days` makes the token expire); the answer carries its API token once"),
     schemas.UserCreateSchema, schemas.UserSchema, ["admin"]),
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
     "expire); the answer carries it once"), schemas.TokenIssueSchema, schemas.UserSchema,
     ["admin"]),
    ("/users/{name}/token", "delete", "Revoke the user's API token", None, schemas.UserSchema,
     ["admin"]),
    ("/auth-events", "get", ("The account log, newest first: sign-ins, failures, locks and every "
     "change to an account"), schemas.AuthEventQuerySchema,
     schemas.page_schema(schemas.AuthEventSchema), ["admin"]),
    ("/lines", "get", "List lines with their categories", None, None, ["admin"]),
    ("/lines", "post", "Create a line", schemas.LineSchema, None, ["admin"]),
    ("/lines/{code}", "patch", "Change a line", schemas.LineUpdateSchema, None, ["admin"]),
    ("/lines/{code}/categories", "post", "Add a category to a line", schemas.CategorySchema,
     None, ["admin"]),
    ("/calendar/{year}", "get", "The working-day calendar of a year and its source", None,
     schemas.CalendarOutSchema, ["calendar"]),
    ("/calendar/{year}", "put", "Set a year's holidays and adjusted workdays (调休)",
     schemas.CalendarSchema, schemas.CalendarOutSchema, ["calendar"]),
]


def build_spec() -> dict:
    spec = APISpec(
        title="Hotline API", version="1", openapi_version="3.0.3",
        info={"description": "Staff and public API of the Hotline citizen hotline backend."},
        plugins=[MarshmallowPlugin()],
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", _ERROR)
    paths: dict[str, dict] = {}
    for number, (path, method, summary, req, resp, tags) in enumerate(_PATHS + EXTRA_PATHS):
        op: dict = {"summary": summary, "tags": tags, "operationId": f"op{number}",
                    "responses": {
                        "default": {"description": "error",
                                    "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/Error"}}}}}}
        if not path.startswith("/public"):
            op["security"] = [{"bearer": []}]
        query = []
        if req is not None and method == "get":
            query = [{"in": "query", "schema": req}]  # expanded into one parameter per field
        elif req is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": req}}}
        ok = {"description": "success"}
        if resp is not None:
            ok["content"] = {"application/json": {"schema": resp}}
        op["responses"]["200"] = ok
        params = [p.strip("{}") for p in re.findall(r"\{[^}]+\}", path)]
        if params or query:
            op["parameters"] = [{"name": p, "in": "path", "required": True,
                                 "schema": {"type": "string"}} for p in params] + query
        paths.setdefault(path, {})[method] = op
    for action, schema in schemas.ACTION_SCHEMAS.items():
        rule = ACTIONS[action]
        paths[f"/cases/{{number}}/{action}"] = {"post": {
            "summary": f"{action}: from {', '.join(sorted(rule.sources or []))}; "
                       f"for {', '.join(sorted(rule.roles))}",
            "tags": ["lifecycle"], "operationId": f"action_{action.replace('-', '_')}",
            "security": [{"bearer": []}],
            "parameters": [{"name": "number", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "the case after the action", "content": {
                "application/json": {"schema": schemas.CaseDetailSchema}}},
                "409": {"description": "illegal transition or stale version"}},
        }}
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


@api.get("/openapi.json")
def openapi_document():
    return jsonify(build_spec())
