"""The OpenAPI document says what the app serves: every route under /api/v1 and nothing else,
which operations need a token, the statuses each can answer with, and path parameters typed
as the routes convert them. (The fuzzer in test_openapi_fuzz.py sends what it describes.)"""

from __future__ import annotations

import re

from hotline.api.openapi import openapi_paths
from hotline.domain.lifecycle import ACTIONS


def _document(api) -> dict:
    resp = api.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def _served(app) -> set[tuple[str, str]]:
    return {(path, method.lower()) for rule in app.url_map.iter_rules()
            for path in openapi_paths(rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_api_route_is_in_the_document_and_the_document_names_no_other(app, api):
    documented = {(path, method) for path, ops in _document(api)["paths"].items()
                  for method in ops}
    served = _served(app)
    assert sorted(served - documented) == []
    assert sorted(documented - served) == []
    # The four that were missing.
    assert {("/me", "get"), ("/users/{name}/token", "post"), ("/lines/{code}", "get"),
            ("/lines/{code}/categories/{cat_code}", "patch")} <= documented


def test_the_document_says_which_operations_need_a_token(app, api):
    doc = _document(api)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            url = "/api/v1" + re.sub(r"\{[^}]+\}", "1", path)
            status = api.call(method.upper(), url, json={} if method != "get" else None)\
                .status_code
            if op.get("security"):
                assert status == 401, (method, path, status)
            else:
                assert status != 401, (method, path, status)
    assert doc["paths"]["/publications"]["get"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/publications/{number}/approve"]["post"]["security"]


def test_case_actions_document_the_errors_they_answer_with(api, tokens, new_case):
    doc = _document(api)
    number = new_case()["number"]
    seen = {
        # a case that is not there
        api.post("/cases/ZT20000101-0001/accept", tokens.admin, {}).status_code,
        # a department that does not exist
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "nowhere"})
        .status_code,
        # a field of the wrong type
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": 5}).status_code,
        # not from this status
        api.post(f"/cases/{number}/close", tokens.operator, {}).status_code,
        # not for this role
        api.post(f"/cases/{number}/reopen", tokens.operator, {"reason": "再办"}).status_code,
    }
    assert seen == {404, 422, 400, 409, 403}
    for action in ACTIONS:
        responses = doc["paths"][f"/cases/{{number}}/{action}"]["post"]["responses"]
        assert seen | {200, 401} <= {int(s) for s in responses}, action
        error = responses["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}


def test_path_parameters_are_typed_as_the_routes_take_them(api):
    paths = _document(api)["paths"]

    def param(path: str, method: str, name: str) -> dict:
        return next(p["schema"] for p in paths[path][method]["parameters"] if p["name"] == name)

    assert param("/calendar/{year}", "get", "year")["type"] == "integer"
    assert param("/bulletins/{bulletin_id}.xlsx", "get", "bulletin_id")["type"] == "integer"
    assert param("/rules/{rule_id}", "delete", "rule_id")["type"] == "integer"
    assert param("/cases/{number}", "get", "number")["type"] == "string"


def test_due_soon_documents_the_last_day_it_counts(api, tokens):
    doc = _document(api)
    answer = api.get("/supervision/due-soon", tokens.supervisor).get_json()
    ref = doc["paths"]["/supervision/due-soon"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    documented = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert set(answer) == set(documented) and "until" in answer


def test_options_offers_only_the_methods_a_path_takes(api, new_case):
    number = new_case()["number"]
    allow = api.client.options(f"/api/v1/cases/{number}/surveys").headers["Allow"]
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD", "OPTIONS"}
    allow = api.client.options(f"/api/v1/cases/{number}/accept").headers["Allow"]
    assert {m.strip() for m in allow.split(",")} == {"POST", "OPTIONS"}
    assert api.client.options(f"/api/v1/cases/{number}/nothing").status_code == 404
