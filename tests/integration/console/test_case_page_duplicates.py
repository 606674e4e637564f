"""The console's case page tells a handler no more than the API does: a likely duplicate in
another department is not named on the timeline."""

from __future__ import annotations


def test_case_page_does_not_name_a_duplicate_in_another_department(api, tokens, console_as):
    citizen = {"phone": "13908571234", "name": "李秀英"}
    numbers = []
    for content, department in (
            ("我家是建档立卡贫困户，今年的危房改造补助一直没有发下来，村里说还在审核。", "gov-520100"),
            ("又打来问一下，我们家危房改造补助到现在还没发，村里一直说在审核。", "gz-hrss")):
        case = api.post("/cases", tokens.operator, {"line": "fupin", "channel": "phone",
                                                    "citizen": citizen, "content": content})
        assert case.status_code == 201, case.get_json()
        number = case.get_json()["number"]
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": department})
        numbers.append(number)
    first, second = numbers
    supervisor_page = console_as("supervisor").get(f"/console/cases/{second}")
    assert f"疑似重复件：与 {first} 内容相近" in supervisor_page.get_data(as_text=True)
    page = console_as("handler").get(f"/console/cases/{second}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "危房改造补助" in html
    assert first not in html and "疑似重复" not in html
