"""The web process's log lines: each request has an id (the caller's X-Request-ID or a new
one) echoed in the response, and its JSON log line carries that id and the case it concerns."""

from __future__ import annotations

import re


def test_request_id_from_the_caller_is_echoed_and_a_missing_one_is_made(api, tokens):
    given = api.get("/cases", tokens.operator, headers={"X-Request-ID": "lb-7f3a2c91"})
    assert given.headers["X-Request-ID"] == "lb-7f3a2c91"
    made = api.get("/cases", tokens.operator)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    # A value that is no plain token (a forged log field) is replaced, not echoed.
    forged = api.get("/cases", tokens.operator, headers={"X-Request-ID": "x\" level=ERROR"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


def test_json_log_line_of_a_request_carries_its_request_id_and_case_number(
        api, tokens, new_case, json_log):
    created = api.post("/cases", tokens.operator,
                       {"line": "zhitongche", "channel": "phone", "category": "situation",
                        "content": "某区住建部门拖欠我公司工程款三百余万元，请帮助协调。",
                        "citizen": {"name": "王建国", "phone": "13985012345"}},
                       headers={"X-Request-ID": "req-create-1"})
    number = created.get_json()["number"]
    api.get(f"/cases/{number}", tokens.operator, headers={"X-Request-ID": "req-view-2"})
    api.get("/healthz")

    lines = json_log()  # every line parses as JSON
    served = [line for line in lines if line["logger"] == "hotline.requests"]
    assert [(s["request_id"], s["case"], s["method"], s["route"], s["status"])
            for s in served] == [
        ("req-create-1", number, "POST", "/api/v1/cases", 201),
        ("req-view-2", number, "GET", "/api/v1/cases/<number>", 200),
    ]  # the health probe is DEBUG
    assert all(s["level"] == "INFO" and s["time"] and s["process"] == "test" for s in served)
    text = "\n".join(str(line) for line in lines)
    assert "13985012345" not in text and "工程款" not in text
