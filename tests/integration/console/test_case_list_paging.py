"""Paging through the console's case lists: the next-page link enters the list after the last
row shown (a cursor), so a clerk walking a long list sees every case once, in order, and a deep
page costs what the first one does."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import event

from hotline.extensions import db

TEXTS = ["包工头拖欠农民工工资三个月", "小区电梯长期故障无人维修", "咨询稳岗补贴申请条件",
         "通组公路修到一半停工", "易地扶贫搬迁安置房漏水"]
NUMBER = re.compile(r"\b[A-Z]{2}\d{8}-\d{4}\b")


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">下一页</a>', page)
    return html.unescape(found.group(1)) if found else None


def numbers_on(page: str) -> list[str]:
    return list(dict.fromkeys(NUMBER.findall(page.split('aria-label="翻页"')[0])))


@pytest.fixture
def five(new_case) -> list[str]:
    return [new_case(content=text, received_at=f"2026-11-{16 + i}T09:00:00+08:00")["number"]
            for i, text in enumerate(TEXTS)]


def test_next_page_links_walk_the_whole_list_once_in_order(console_as, five, app):
    client = console_as("supervisor")
    url: str | None = "/console/cases?sort=-received&per_page=2"
    seen, labels, statements = [], [], []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        while url:
            page = client.get(url)
            assert page.status_code == 200
            text = page.get_data(as_text=True)
            seen += numbers_on(text)
            labels.append(re.search(r"第 (\d+) / (\d+) 页", text).groups())
            url = next_link(text)
            if url:
                assert "cursor=" in url and "sort=-received" in url and "per_page=2" in url
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert seen == list(reversed(five))
    assert labels == [("1", "3"), ("2", "3"), ("3", "3")]
    # Pages two and three entered the list after the row before them, not by skipping rows.
    listed = [s for s in statements if s.startswith("SELECT cases.id, cases.number")]
    assert len(listed) == 3
    assert [bool(re.search(r"\(cases\.received_at, cases\.id\) <", s)) for s in listed] == [
        False, True, True]


def test_a_page_number_alone_still_shows_that_page(console_as, five):
    text = console_as("supervisor").get(
        "/console/cases?sort=-received&per_page=2&page=2").get_data(as_text=True)
    assert numbers_on(text) == [five[2], five[1]]
    assert "第 2 / 3 页" in text


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJkdWUiLDEsMl0", "%E5%B7%A5%E5%8D%95"])
def test_a_stale_or_forged_cursor_says_so_and_shows_the_numbered_page(console_as, five, cursor):
    page = console_as("supervisor").get(
        f"/console/cases?sort=-received&per_page=2&page=2&cursor={cursor}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "翻页链接已失效" in text
    assert numbers_on(text) == [five[2], five[1]]


def test_a_handler_paging_by_cursor_stays_in_their_department(console_as, api, tokens, five):
    for number in five[:3]:
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-hrss"})
    for number in five[3:]:
        api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-zjt"})
    client = console_as("handler")
    url: str | None = "/console/cases?sort=due&per_page=2"
    seen = []
    while url:
        text = client.get(url).get_data(as_text=True)
        seen += numbers_on(text)
        url = next_link(text)
    assert sorted(seen) == sorted(five[:3])
