"""Who sees what in reports: a handler reads only their department's figures and cases in every
report and bulletin, and texts quoted by a report are masked as for publication."""

from __future__ import annotations

import io

import openpyxl

from .conftest import local

OCT12 = local(2026, 10, 12, 9, 30)
# Two letters about the same unpaid site, written by people who gave their ID and phone numbers.
WAGES = ("我叫{name}，身份证号520102198703154411，电话13985012345，在毕节市威宁县某工地务工，"
         "包工头拖欠农民工工资八千元，春节前至今未发，请帮忙协调。")


def _wage_cases(build, department: str, names: tuple[str, ...]) -> list[str]:
    numbers = []
    for i, name in enumerate(names):
        case = build.case(local(2026, 10, 10 + i, 9, 0), content=WAGES.format(name=name),
                          citizen={"name": name}, topic1="劳动和社会保障", topic2="工资福利",
                          region="520526")
        build.act(case, "dispatch", local(2026, 10, 10 + i, 10, 0), department=department)
        numbers.append(case.number)
    return numbers


def _workbook_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


def test_a_handler_reads_a_bulletin_without_other_departments_cases(api, tokens, build):
    theirs = _wage_cases(build, "gov-520100", ("张建华", "李秀英"))
    mine = build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gz-hrss")
    written = api.post("/bulletins", tokens.supervisor, {"period": "2026-10"}).get_json()
    # The supervisor's bulletin covers every department, clusters and all.
    full = api.get(f"/bulletins/{written['id']}", tokens.supervisor).get_json()
    assert full["summary"]["total"] == 3
    assert full["summary"]["hot"]["clusters"][0]["numbers"] == theirs

    detail = api.get(f"/bulletins/{written['id']}", tokens.handler)
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["title"].endswith("（贵州省人力资源和社会保障厅）")
    assert body["summary"]["total"] == 1
    assert [d["code"] for d in body["summary"]["departments"]] == ["gz-hrss"]
    assert body["summary"]["hot"]["clusters"] == []
    html = api.get(written["html_url"], tokens.handler).get_data(as_text=True)
    xlsx = _workbook_text(api.get(written["xlsx_url"], tokens.handler).data)
    for text in (str(body), html, xlsx):
        assert not any(number in text for number in theirs)
        assert "威宁县" not in text and "贵阳市人民政府" not in text
    assert "本期共受理群众和企业诉求 <b>1</b> 件" in html
    assert "贵州省人力资源和社会保障厅" in xlsx
    assert mine.number not in html  # a bulletin lists no single case of its own either


def test_a_handler_of_another_department_gets_their_own_edition(api, tokens, build):
    theirs = _wage_cases(build, "gz-hrss", ("张建华", "李秀英"))
    written = api.post("/bulletins", tokens.supervisor, {"period": "2026-10"}).get_json()
    body = api.get(f"/bulletins/{written['id']}", tokens.other_handler).get_json()
    assert body["summary"]["total"] == 0
    assert "张" not in str(body["summary"]) and theirs[0] not in str(body)


def test_cluster_samples_in_reports_are_masked(api, tokens, build):
    _wage_cases(build, "gz-hrss", ("张建华", "李秀英"))
    for token in (tokens.supervisor, tokens.handler):
        hot = api.get("/stats/hot?period=2026-10", token).get_json()
        sample = hot["clusters"][0]["sample"]
        assert "拖欠农民工工资" in sample
        for personal in ("520102198703154411", "13985012345", "张建华"):
            assert personal not in sample
    written = api.post("/bulletins", tokens.supervisor, {"period": "2026-10"}).get_json()
    html = api.get(written["html_url"], tokens.supervisor).get_data(as_text=True)
    xlsx = _workbook_text(api.get(written["xlsx_url"], tokens.supervisor).data)
    assert "拖欠农民工工资" in xlsx
    for text in (html, xlsx):
        assert "520102198703154411" not in text and "13985012345" not in text


def test_return_reasons_in_reports_are_masked(api, tokens, build):
    from .conftest import handler

    case = build.case(OCT12)
    build.act(case, "dispatch", OCT12, department="gz-tax")
    build.act(case, "return", local(2026, 10, 12, 11, 0), actor=handler("gz-tax"),
              reason="已电话联系来电人13985012345，属地事项，应由贵阳市办理")
    body = api.get("/stats/summary?period=2026-10", tokens.supervisor).get_json()
    reasons = [r["reason"] for r in body["handling"]["return_reasons"]]
    assert len(reasons) == 1 and "应由贵阳市办理" in reasons[0]
    assert "13985012345" not in reasons[0]
