"""The router's decisions, as an operator would judge them."""

from __future__ import annotations

import json
import time

import pytest

from routing import Decision, Department, Router, Rule, default_rules, demo_departments

WEINING = "我是毕节市威宁县哈喇河镇的村民，给一包农用肥就被强制脱贫是否符合国家精准扶贫"


@pytest.fixture(scope="module")
def departments() -> list[Department]:
    return demo_departments()


@pytest.fixture(scope="module")
def router(departments: list[Department]) -> Router:
    return Router(default_rules(departments), departments)


def test_guiyang_social_security_hotline_complaint_goes_to_guiyang_government(router):
    d = router.route("贵阳市社会保障热线12333形同虚设", "board")
    assert d.region == "520100"
    assert d.region_source == "text"
    assert d.topic[0] == "劳动和社会保障"
    assert d.department == "gov-520100"
    assert d.category == "complaint"
    assert d.confidence >= 0.8
    assert any("12333" in r for r in d.reasons)


def test_forced_poverty_exit_in_weining_goes_to_bijie_while_weining_has_no_department(router):
    d = router.route(WEINING, "fupin")
    assert d.region == "520526"
    assert d.region_name == "威宁彝族回族苗族自治县"
    assert d.topic == ("农村农业", "扶贫开发", "扶贫开发政策")
    assert d.department == "gov-520500"
    assert any("无 gov-520526" in r for r in d.reasons)


def test_forced_poverty_exit_goes_to_weining_government_once_admins_add_it(departments):
    with_county = [*departments, Department("gov-520526", "威宁县人民政府", "520526")]
    d = Router(default_rules(with_county), with_county).route(WEINING, "fupin")
    assert d.department == "gov-520526"


def test_poverty_question_without_a_place_goes_to_the_provincial_poverty_office(router):
    d = router.route("给一包农用肥就被强制脱贫是否符合国家精准扶贫", "fupin")
    assert d.region is None
    assert d.department == "gz-fupin"


def test_wage_arrears_go_to_the_local_government_when_the_county_is_known(router):
    d = router.route("我在纳雍县一个工地干活，包工头拖欠我们三个月工资不给", "board")
    assert (d.region, d.department) == ("520525", "gov-520500")
    assert d.topic[:2] == ("劳动和社会保障", "工资福利")


def test_wage_arrears_without_a_place_go_to_the_provincial_labour_department(router):
    d = router.route("老板拖欠工资半年了，打电话也不接", "board")
    assert d.department == "gz-hrss"


def test_wage_arrears_outside_guizhou_go_to_the_provincial_labour_department(router):
    d = router.route("我们在浙江宁波的厂里打工，老板拖欠我们三个月工资", "fupin")
    assert d.region == "330200"
    assert d.department == "gz-hrss"


def test_caller_region_is_used_when_the_text_names_no_place(router):
    d = router.route("楼下烧烤摊油烟太大，天天到半夜", "board", caller_region="520300")
    assert d.region == "520300"
    assert d.region_source == "caller"
    assert d.department == "gov-520300"
    assert d.region_confidence < 0.8


def test_a_place_in_the_text_beats_the_caller_region(router):
    d = router.route("凯里市某小区停水三天了", "board", caller_region="520300")
    assert (d.region, d.region_source) == ("522601", "text")


def test_an_unknown_caller_region_is_ignored_with_a_reason(router):
    d = router.route("小区停水三天了", "board", caller_region="999999")
    assert d.region is None
    assert any("999999" in r for r in d.reasons)


def test_edited_rules_change_the_next_decision(departments):
    text = "小区停水三天了，也没有通知"
    before = Router(default_rules(departments), departments).route(text, "board")
    assert before.department == "gz-housing"
    edited = [Rule(99, "board", None, None, ("停水",), None, "gz-dev", priority=50)]
    after = Router(edited + default_rules(departments), departments).route(text, "board")
    assert after.department == "gz-dev"
    assert after.rule_id == 99
    assert any("规则 #99" in r for r in after.reasons)


def test_a_rule_naming_a_removed_department_is_skipped(departments):
    rules = [Rule(1, None, None, None, ("停水",), None, "gz-gone", priority=50), *default_rules(departments)]
    d = Router(rules, departments).route("小区停水三天了", "board")
    assert d.department == "gz-housing"


def test_higher_priority_wins_then_the_more_specific_rule(departments):
    rules = [
        Rule(1, None, None, None, ("停水",), None, "gz-dev"),
        Rule(2, "board", None, None, ("停水",), None, "gz-env"),
    ]
    assert Router(rules, departments).route("停水了", "board").department == "gz-env"
    rules.append(Rule(3, None, None, None, (), None, "gz-civil", priority=1))
    assert Router(rules, departments).route("停水了", "board").department == "gz-civil"


def test_county_level_rule_needs_a_county(departments):
    rules = [Rule(1, None, None, None, (), "county", "gz-dev"), Rule(2, None, None, None, (), None, "gz-env")]
    router = Router(rules, departments)
    assert router.route("威宁县停水了", "board").department == "gz-dev"
    assert router.route("毕节市停水了", "board").department == "gz-env"


def test_discipline_reports_are_left_to_the_operator_not_the_accused_government(router):
    d = router.route("举报江口县某镇党委书记收受工程老板好处费，请纪委调查", "board")
    assert d.topic[0] == "纪检监察"
    assert d.department is None
    assert d.confidence == 0.0


def test_taxes_go_to_the_tax_bureau_whatever_the_place(router):
    d = router.route("遵义市我们公司的增值税发票额度不够用，电子税务局申请一直不通过", "zhitongche")
    assert d.department == "gz-tax"


def test_a_clear_message_clears_a_0_8_threshold_and_a_vague_one_does_not(router):
    clear = router.route("贵阳市南明区某小区物业公司不作为，电梯坏了一个月没人修", "board")
    vague = router.route("你好，我想反映一个情况", "board")
    assert clear.confidence >= 0.8
    assert vague.confidence < 0.5
    assert vague.topic_confidence < 0.3


def test_every_message_gets_a_level1_topic_even_without_recognisable_words(router):
    for line in ("fupin", "zhitongche", "board", "unknown-line"):
        d = router.route("喂？", line)
        assert d.topic[0]
        assert 0.0 <= d.confidence <= 1.0


def test_each_line_suggests_its_own_categories(router):
    assert router.route("我们公司想给贫困山区的学校捐一批图书", "fupin").category == "donation"
    assert router.route("家里老人瘫痪，实在过不下去了，求你们帮帮我们", "fupin").category == "hardship"
    assert router.route("请问扶贫小额信贷的政策是怎样的？", "fupin").category == "policy_consult"
    assert router.route("建议在安置点附近多引进扶贫车间", "fupin").category == "suggestion"
    assert router.route("请问注册公司要多长时间？", "zhitongche").category == "general_consult"
    assert router.route("政府拖欠我公司货款三百万，多次催要无果", "zhitongche").category == "situation"
    assert router.route("建议延长地铁运营时间", "board").category == "suggestion"
    assert router.route("举报某饭店后厨卫生很差", "board").category == "complaint"


def test_an_unknown_line_gets_no_category(router):
    assert router.route("请问社保怎么交", "no-such-line").category is None


def test_full_width_digits_and_letters_are_understood(router):
    d = router.route("贵阳市社会保障热线１２３３３形同虚设", "board")
    assert d.topic[0] == "劳动和社会保障"


def test_decision_as_dict_is_json_ready(router):
    d = router.route(WEINING, "fupin")
    data = d.as_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["topic"] == list(d.topic)
    assert set(data) >= {
        "topic", "topic_confidence", "category", "category_confidence", "region", "region_name",
        "region_confidence", "region_source", "department", "department_confidence", "rule_id",
        "confidence", "reasons",
    }
    assert isinstance(d, Decision)


def test_rule_keywords_given_as_a_list_are_stored_as_a_tuple():
    rule = Rule(1, None, None, None, ["停水", "停电"], None, "gz-dev")  # type: ignore[arg-type]
    assert rule.keywords == ("停水", "停电")
    with pytest.raises(ValueError):
        Rule(2, None, None, None, (), "village", "gz-dev")


def test_default_rules_leave_out_departments_that_do_not_exist():
    only = [Department("gz-hrss", "人社厅", "520000")]
    rules = default_rules(only)
    named = {r.department for r in rules} - {"", "{region}"}
    assert named == {"gz-hrss"}


def test_common_input_method_slips_are_understood(router):
    d = router.route("云岩区那个工地晚上燥音太大了，根本睡不着", "board")
    assert d.topic[0] == "环境保护"
    assert router.route("我们村的底保评得不公平", "fupin").topic[0] == "民政"


def test_a_huge_pasted_letter_is_read_only_as_far_as_needed(router):
    letter = "尊敬的领导：我是威宁县的村民，反映低保评审不公的问题。" + "情况如下。" * 5000
    started = time.thread_time()
    d = router.route(letter, "board")
    assert time.thread_time() - started < 0.5
    assert d.region == "520526"


def test_routing_costs_well_under_ten_milliseconds_a_message_after_warm_up(router):
    texts = [WEINING, "贵阳市社会保障热线12333形同虚设", "小区停水三天了，也没有通知",
             "请问注册公司要多长时间？", "举报某饭店后厨卫生很差"] * 10
    router.route("预热", "board")
    costs = []
    for text in texts:
        started = time.thread_time()
        router.route(text, "board")
        costs.append(time.thread_time() - started)
    costs.sort()
    assert costs[len(costs) // 2] < 0.010


def test_a_county_government_is_found_by_its_code_even_with_a_coarse_region(departments):
    with_county = [*departments, Department("gov-520526", "威宁县人民政府", "520500")]
    d = Router(default_rules(with_county), with_county).route(WEINING, "fupin")
    assert d.department == "gov-520526"


def test_a_board_posts_title_outweighs_the_words_of_its_details(router):
    # The details mention the quarry's mining (国土资源) as much as its dust (环境保护); the
    # title says what the writer complains about.
    details = "某某村后山有个采石场，每天放炮开采，粉尘漫天，村民多次反映没人管"
    assert router.route("K8县某采石场粉尘污染\n" + details, "board").topic[0] == "环境保护"
    # A long first line is the message itself, not a title: no word of it weighs more.
    from routing import segment, topics
    long_first = "某某村后山有个采石场每天放炮开采粉尘漫天" * 3 + "\n村民多次反映没人管"
    norm = segment.normalize(long_first)
    plain = topics.classify(norm.replace("\n", "，"), segment.boundaries(segment.cut(norm)), "board")
    as_is = topics.classify(norm, segment.boundaries(segment.cut(norm)), "board")
    assert as_is.score == plain.score
