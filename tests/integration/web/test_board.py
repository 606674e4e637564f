"""The public board: only approved cases, masked; search, filters and pages; one case's page."""

from __future__ import annotations

import datetime as dt

from hotline.extensions import db
from hotline.models import Case

ROAD = ("六盘水市水城区米箩镇到县城的公路坑洼严重，雨天车辆无法通行，村民出行和农产品外运都很困难，"
        "希望尽快修复。我叫陈国富，电话15885901234。")
ROAD_REPLY = "水城区交通运输局已将该路段列入今年农村公路养护计划，12月底前完成修复。"


def test_board_shows_only_approved_cases_with_personal_data_masked(browser, api, tokens,
                                                                   published_case,
                                                                   closed_case):
    shown = published_case()
    closed_case()  # consented and closed, but not approved yet
    html = browser.get("/board").get_data(as_text=True)
    assert "共 1 条" in html
    assert shown["number"] in html
    assert "张某某" in html or "某" in html
    for secret in ("张建华", "13985012345", "3栋2单元501室"):
        assert secret not in html
    assert "贵州省住房和城乡建设厅答复" in html
    data = api.get("/public/board").get_json()
    assert data["total"] == 1
    item = data["items"][0]
    assert item["status_label"] == "已办结" and item["region_name"] == "云岩区"
    assert item["department_name"] == "贵州省住房和城乡建设厅"
    assert set(item) >= {"title", "question", "answer", "line_name", "category_name",
                         "received_date", "answered_date", "published_at"}


def test_search_finds_words_of_the_published_text_but_never_the_hidden_name(api,
                                                                             published_case):
    published_case()
    published_case(content=ROAD, reply=ROAD_REPLY, region="520221",
                   citizen={"name": "陈国富", "phone": "15885901234"})
    assert api.get("/public/board?q=噪音").get_json()["total"] == 1
    assert api.get("/public/board?q=公路 修复").get_json()["total"] == 1
    assert api.get("/public/board?q=公路 噪音").get_json()["total"] == 0
    # The names are in the cases' originals; the board must not tell who wrote which.
    assert api.get("/public/board?q=陈国富").get_json()["total"] == 0
    assert api.get("/public/board?q=张建华").get_json()["total"] == 0
    assert api.get("/public/board?q=15885901234").get_json()["total"] == 0
    # Wildcards are plain characters, not patterns.
    assert api.get("/public/board?q=%25").get_json()["total"] == 0


def test_board_filters_by_line_category_region_topic_and_period(app, api, published_case):
    published_case()
    road = published_case(content=ROAD, reply=ROAD_REPLY, region="520221", category="appeal",
                          citizen={"name": "陈国富", "phone": "15885901234"})
    assert api.get("/public/board?region=520200").get_json()["total"] == 1
    assert api.get("/public/board?region=520100").get_json()["items"][0]["number"] != \
        road["number"]
    assert api.get("/public/board?line=board&category=appeal").get_json()["total"] == 1
    assert api.get("/public/board?line=zhitongche").get_json()["total"] == 0
    today = dt.date.today()
    assert api.get(f"/public/board?from={today - dt.timedelta(days=1)}").get_json()["total"] == 2
    assert api.get(f"/public/board?to={today - dt.timedelta(days=2)}").get_json()["total"] == 0
    case = db.session.query(Case).filter_by(number=road["number"]).one()
    if case.topic1:
        found = api.get(f"/public/board?topic={case.topic1}").get_json()
        assert road["number"] in [i["number"] for i in found["items"]]
    assert api.get("/public/board?region=abc").status_code == 400
    assert api.get("/public/board?per_page=500").status_code == 400


def test_board_pages_through_many_cases(api, browser, published_case):
    numbers = [published_case()["number"] for _ in range(12)]
    first = api.get("/public/board?per_page=5").get_json()
    assert first["total"] == 12 and first["pages"] == 3 and len(first["items"]) == 5
    assert first["items"][0]["number"] == numbers[-1]  # newest first
    last = api.get("/public/board?per_page=5&page=3").get_json()
    assert len(last["items"]) == 2
    html = browser.get("/board?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in html and 'rel="prev"' in html


def test_nonsense_filters_on_the_page_show_the_whole_board(browser, published_case):
    published_case()
    resp = browser.get("/board?line=nope&region=zzz&page=abc&period=7")
    assert resp.status_code == 200
    assert "共 1 条" in resp.get_data(as_text=True)


def test_case_page_shows_the_question_and_the_answer(browser, published_case):
    case = published_case()
    resp = browser.get(f"/board/{case['number']}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "留言内容" in html and "答复" in html and "区住建局已于11月25日约谈施工单位" in html
    assert "张建华" not in html


def test_unpublished_case_page_is_not_found(browser, closed_case):
    case = closed_case()
    resp = browser.get(f"/board/{case['number']}")
    assert resp.status_code == 404
    assert "没有找到" in resp.get_data(as_text=True)
