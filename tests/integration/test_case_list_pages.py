"""Deep pages of the case list by cursor (游标分页) and counts that say when they are estimates:
a clerk walking a long list page after page sees every case once, in order, whichever way it
is sorted."""

from __future__ import annotations

import pytest

from hotline import listing
from hotline.extensions import db

RECEIVED = ["2026-11-16T09:00:00+08:00", "2026-11-16T09:00:00+08:00", "2026-11-17T15:30:00+08:00",
            "2026-11-18T08:10:00+08:00", "2026-11-20T10:00:00+08:00"]
TEXTS = ["包工头拖欠农民工工资三个月", "小区电梯长期故障无人维修", "咨询稳岗补贴申请条件",
         "通组公路修到一半停工", "易地扶贫搬迁安置房漏水"]


@pytest.fixture
def many(api, tokens, new_case) -> list[str]:
    """Seven cases: five dispatched with deadlines (two received at the same moment), one
    answered on the spot (no deadline), one waiting for dispatch."""
    numbers = []
    for at, text in zip(RECEIVED, TEXTS, strict=True):
        number = new_case(received_at=at, content=text)["number"]
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-hrss"})
        numbers.append(number)
    answered = new_case(content="咨询医保报销比例")["number"]
    assert api.post(f"/cases/{answered}/answer", tokens.operator,
                    {"text": "职工医保住院报销比例为85%。"}).status_code == 200
    numbers.append(answered)
    numbers.append(new_case(content="餐馆使用过期食材")["number"])
    return numbers


def walk(api, token, query: str, per_page: int = 2) -> tuple[list[str], list[dict]]:
    """Every page of a list by following `next_cursor`."""
    seen, pages = [], []
    r = api.get(f"/cases?{query}&per_page={per_page}", token)
    while True:
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        pages.append(body)
        seen += [x["number"] for x in body["items"]]
        if body["next_cursor"] is None:
            return seen, pages
        r = api.get(f"/cases?{query}&per_page={per_page}&cursor={body['next_cursor']}", token)


@pytest.mark.parametrize("sort", ["due", "-due", "received", "-received"])
def test_following_cursors_shows_every_case_once_in_the_order_of_the_pages(api, tokens, many,
                                                                           sort):
    everything = api.get(f"/cases?sort={sort}&per_page=100", tokens.supervisor).get_json()
    expected = [x["number"] for x in everything["items"]]
    assert sorted(expected) == sorted(many)
    seen, pages = walk(api, tokens.supervisor, f"sort={sort}")
    assert seen == expected
    assert len(pages) == 4 and pages[-1]["next_cursor"] is None
    assert all(p["total"] == 7 and p["total_exact"] for p in pages)
    assert pages[0]["page"] == 1 and pages[1]["page"] is None


def test_a_department_walks_its_queue_by_cursor_soonest_deadline_first(api, tokens, many):
    seen, _ = walk(api, tokens.handler, "status=dispatched&sort=due")
    assert seen == many[:5]  # received in that order, so due in that order; ties by number
    # A cursor is only a place in the list: the handler's scope still applies to what follows.
    _, pages = walk(api, tokens.handler, "status=dispatched&sort=due&department=gz-tax")
    assert pages == [{"items": [], "page": 1, "per_page": 2, "total": 0, "total_exact": True,
                      "next_cursor": None}]


def test_the_cursor_page_equals_the_numbered_page(api, tokens, many):
    first = api.get("/cases?sort=due&per_page=3", tokens.supervisor).get_json()
    by_cursor = api.get(f"/cases?sort=due&per_page=3&cursor={first['next_cursor']}",
                        tokens.supervisor).get_json()
    by_page = api.get("/cases?sort=due&per_page=3&page=2", tokens.supervisor).get_json()
    assert by_cursor["items"] == by_page["items"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "W10", "WyJkdWUiLDEsMl0", "%E5%B7%A5%E5%8D%95"])
def test_a_cursor_the_list_did_not_give_out_is_a_400(api, tokens, many, cursor):
    r = api.get(f"/cases?sort=due&cursor={cursor}", tokens.supervisor)
    assert r.status_code == 400 and "cursor" in r.get_json()["error"]["fields"]


def test_a_cursor_of_another_sort_or_with_a_page_is_refused(api, tokens, many):
    cursor = api.get("/cases?sort=due&per_page=2", tokens.supervisor).get_json()["next_cursor"]
    r = api.get(f"/cases?sort=-received&cursor={cursor}", tokens.supervisor)
    assert r.status_code == 400 and "sort=due" in r.get_json()["error"]["fields"]["cursor"][0]
    r = api.get(f"/cases?sort=due&page=3&cursor={cursor}", tokens.supervisor)
    assert r.status_code == 400 and "cursor" in r.get_json()["error"]["fields"]


def test_past_the_exact_limit_postgresql_says_the_total_is_an_estimate(api, tokens, many,
                                                                       monkeypatch):
    monkeypatch.setattr(listing, "COUNT_EXACT_UP_TO", 3)
    body = api.get("/cases?per_page=2", tokens.supervisor).get_json()
    if db.engine.dialect.name == "postgresql":
        assert body["total_exact"] is False and body["total"] >= 4
    else:  # SQLite counts exactly whatever the size
        assert body["total_exact"] is True and body["total"] == 7
    small = api.get("/cases?status=answered", tokens.supervisor).get_json()
    assert small["total"] == 1 and small["total_exact"] is True
