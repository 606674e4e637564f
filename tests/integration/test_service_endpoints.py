"""Probes and the OpenAPI document."""

from __future__ import annotations

from hotline.domain.lifecycle import ACTIONS


def test_healthz_answers_without_login(api):
    assert api.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_says_which_dependency_is_missing(api):
    r = api.get("/readyz")  # the test app has no Redis configured
    assert r.status_code == 503
    assert r.get_json()["checks"]["database"] == "ok"
    assert r.get_json()["checks"]["redis"].startswith("error")


def test_openapi_document_lists_every_endpoint_and_action(api):
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for action in ACTIONS:
        assert f"/cases/{{number}}/{action}" in doc["paths"]
    create = doc["paths"]["/cases"]["post"]["requestBody"]["content"]["application/json"]
    schema = create["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    props = doc["components"]["schemas"][name]["properties"]
    assert {"line", "channel", "content", "received_at", "public_consent"} <= set(props)
    assert "/calendar/{year}" in doc["paths"]
    # A client learns the case list's filters and sort orders from the document.
    query = {p["name"]: p for p in doc["paths"]["/cases"]["get"]["parameters"]}
    assert {"status", "line", "department", "overdue", "due_before", "q", "page"} <= set(query)
    assert set(query["sort"]["schema"]["enum"]) == {"-received", "received", "due", "-due"}
    assert all(p["in"] == "query" for p in query.values())
    chart = doc["paths"]["/stats/charts/{name}.svg"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in chart][:2] == [("name", "path"), ("period", "query")]
    # Every list a client can filter says how.
    for path in ("/supervision/overdue", "/outbox", "/callbacks", "/calls", "/public/board",
                 "/bulletins", "/ledger.csv", "/wechat/messages"):
        assert any(p["in"] == "query" for p in doc["paths"][path]["get"]["parameters"]), path


def test_unknown_api_path_is_a_json_404(api):
    r = api.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(api, tokens):
    r = api.call("DELETE", "/cases", tokens.admin)
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
