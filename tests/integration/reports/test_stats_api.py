"""The /stats API: periods and filters, who sees what, charts as pictures."""

from __future__ import annotations

import datetime as dt

from .conftest import handler, local

OCT12 = local(2026, 10, 12, 9, 30)


def test_summary_takes_from_and_to_as_local_dates(api, tokens, build):
    build.case(local(2026, 10, 10, 8, 0))
    build.case(local(2026, 10, 20, 23, 30))
    build.case(local(2026, 10, 21, 0, 10))
    body = api.get("/stats/summary?from=2026-10-10&to=2026-10-20", tokens.operator).get_json()
    assert body["total"] == 2
    assert body["period"] == {"label": "2026-10-10..2026-10-20", "kind": "range",
                              "title": "2026年10月10日至2026年10月20日",
                              "from": "2026-10-10", "to": "2026-10-20"}
    assert [d["count"] for d in body["by_day"]][:1] == [1]
    assert body["as_of"].endswith("+08:00")


def test_summary_has_every_section_a_leader_reads(api, tokens, build):
    build.replied(OCT12, local(2026, 10, 13, 9, 0))
    body = api.get("/stats/summary?period=2026-10", tokens.supervisor).get_json()
    for key in ("total", "by_category", "by_topic", "by_channel", "by_kind", "by_region",
                "by_day", "by_week", "by_month", "handling", "outcome", "departments", "hot",
                "phone"):
        assert key in body, key
    assert body["phone"]["answered_within_15s_rate"]["denominator"] == 0
    assert body["outcome"]["response_rate"]["value"] == 100.0


def test_giving_period_and_dates_together_is_refused(api, tokens):
    resp = api.get("/stats/summary?period=2026-10&from=2026-10-01", tokens.supervisor)
    assert resp.status_code == 400
    assert "period" in resp.get_json()["error"]["fields"]


def test_bad_period_and_unknown_filters_are_explained(api, tokens):
    bad = api.get("/stats/summary?period=2026-13", tokens.supervisor)
    assert bad.status_code == 400 and "2026-W44" in str(bad.get_json()["error"]["fields"])
    assert api.get("/stats/summary?colour=red", tokens.supervisor).status_code == 400
    unknown = api.get("/stats/summary?period=2026-10&line=nosuchline", tokens.supervisor)
    assert unknown.status_code == 422


def test_reports_need_a_staff_login(api, tokens):
    assert api.get("/stats/summary").status_code == 401
    assert api.get("/ledger.csv").status_code == 401
    assert api.get("/bulletins").status_code == 401


def test_a_handler_sees_only_the_figures_of_their_department(api, tokens, build):
    build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gz-hrss")
    build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gov-520100")
    body = api.get("/stats/summary?period=2026-10&department=gov-520100",
                   tokens.handler).get_json()  # asks for another department: gets its own
    assert body["total"] == 1
    assert [d["code"] for d in body["departments"]] == ["gz-hrss"]
    assert body["filters"] == {"department": "gz-hrss"}


def test_department_ranking_alone(api, tokens, build):
    build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gz-hrss")
    case = build.case(OCT12)
    build.act(case, "dispatch", OCT12, department="gz-tax")
    build.act(case, "return", OCT12 + dt.timedelta(hours=1), actor=handler("gz-tax"),
              reason="非本单位职责")
    body = api.get("/stats/departments?period=2026-10&rank_by=on_time_rate",
                   tokens.supervisor).get_json()
    assert body["rank_by"] == "on_time_rate"
    codes = [(d["code"], d["returned"]) for d in body["departments"]]
    assert codes == [("gz-hrss", 0), ("gz-tax", 1)]


def test_category_chart_is_an_svg_with_chinese_labels(api, tokens, build):
    build.case(OCT12)
    build.case(OCT12, category="general_consult")
    resp = api.get("/stats/charts/categories.svg?period=2026-10", tokens.supervisor)
    assert resp.status_code == 200
    assert resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    assert "诉求类别分布" in svg and "情况反映" in svg and "50.00%" in svg


def test_volume_and_department_charts_are_png_pictures(api, tokens, build):
    build.replied(OCT12, local(2026, 10, 13, 9, 0))
    for name in ("volume", "departments", "channels", "topics"):
        resp = api.get(f"/stats/charts/{name}.png?period=2026-10", tokens.supervisor)
        assert resp.status_code == 200, name
        assert resp.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_chart_is_not_found(api, tokens):
    resp = api.get("/stats/charts/weather.svg?period=2026-10", tokens.supervisor)
    assert resp.status_code == 404
    assert "categories" in resp.get_json()["error"]["message"]


def test_api_document_lists_the_report_paths_and_definitions(api):
    doc = api.get("/openapi.json").get_json()
    assert "/stats/summary" in doc["paths"] and "/ledger.xlsx" in doc["paths"]
    text = doc["paths"]["/stats/summary"]["get"]["summary"]
    assert "回应率" in text and "23:59:59" in text and "largest remainder" in text
