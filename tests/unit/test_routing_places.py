"""Place names → division codes: statutory names, short forms, former names, landmarks."""

from __future__ import annotations

import pytest

from routing import current_code, find_region
from routing.places import chain, display_name, divisions


def code_of(text: str) -> str | None:
    found = find_region(text)
    return found[0] if found else None


# Place names and the division each names, by rule.
PLACES: dict[str, list[tuple[str, str]]] = {
    "short and full forms name the same division": [
        ("我是威宁彝族回族苗族自治县的", "520526"),
        ("我是威宁县的", "520526"),
        ("我是威宁的，家里种洋芋", "520526"),
        ("黔东南的很多村子", "522600"),
        ("黔东南州的贫困村", "522600"),
        ("黔东南苗族侗族自治州", "522600"),
        ("黔南州都匀市", "522701"),
        ("松桃县", "520628"),
        ("三都县的水族同胞", "522732"),
        ("六枝特区", "520203"),
        ("六枝的", "520203"),
        ("贵安新区", "520900"),
    ],
    "renamed divisions map to their current codes": [
        ("盘县某路口经常出事故", "520281"),  # 盘县 → 盘州市 2017
        ("黔西县的村医", "520581"),  # 黔西县 → 黔西市 2021
        ("水城县的煤矿", "520204"),  # 水城县 → 水城区 2020
        ("遵义县的老百姓", "520304"),  # 遵义县 → 播州区 2016
        ("兴仁县", "522302"),  # 兴仁县 → 兴仁市 2018
        ("以前的小河区", "520111"),  # merged into 花溪区 2012
        ("毕节地区的", "520500"),
    ],
    "well-known towns and places imply their division": [
        ("我是哈喇河镇的村民", "520526"),
        ("茅台镇的酒厂", "520382"),
        ("花溪这边", "520111"),
        ("花果园的电梯又坏了", "520102"),
        ("黄果树景区门票", "520423"),
        ("西江千户苗寨的民宿", "522634"),
    ],
}


@pytest.mark.parametrize(("text", "code"), [
    pytest.param(text, code, id=f"{rule}: {text}")
    for rule, cases in PLACES.items() for text, code in cases])
def test_a_place_name_gives_its_current_division(text: str, code: str):
    assert code_of(text) == code


def test_former_codes_map_to_current_codes():
    assert current_code("522427") == "520526"  # 毕节地区威宁县 before 2011
    assert current_code("520222") == "520281"  # 盘县
    assert current_code("520526") == "520526"


def test_county_named_with_its_prefecture_is_sure_and_specific():
    code, name, confidence = find_region("我是毕节市威宁县哈喇河镇的村民")
    assert (code, name) == ("520526", "威宁彝族回族苗族自治县")
    assert confidence > 0.95


@pytest.mark.parametrize(
    "text",
    ["我们正安排人处理", "老板很大方", "蓝天白云", "污水流进赤水河", "沿河走了一公里", "没有地名的消息"],
)
def test_ordinary_words_and_rivers_are_not_places(text):
    assert find_region(text) is None


def test_two_counties_of_one_prefecture_give_the_prefecture():
    code, _, confidence = find_region("六枝到水城的班车经常不按时发车")
    assert code == "520200"
    assert confidence < 0.9


def test_a_guizhou_place_beats_the_province_where_the_caller_works():
    assert code_of("我是威宁的，在浙江宁波打工被拖欠工资") == "520526"


def test_a_place_outside_guizhou_alone_is_kept():
    assert code_of("我们在浙江宁波的厂里打工") == "330200"


def test_only_the_province_named_gives_the_province_with_low_confidence():
    code, _, confidence = find_region("贵州的高速公路节假日免费吗")
    assert code == "520000"
    assert confidence < 0.8


def test_every_guizhou_county_has_a_current_code_and_a_prefecture():
    counties = [d for d in divisions().values() if d.in_guizhou and d.level == "county"]
    assert len(counties) == 88
    for county in counties:
        assert chain(county.code)[1:] == [county.parent, "520000"]
        assert code_of(county.name) == county.code


def test_display_names_are_the_short_spoken_forms():
    assert display_name("520526") == "威宁县"
    assert display_name("522600") == "黔东南州"
    assert display_name("520100") == "贵阳市"
