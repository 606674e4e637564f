"""Masking of personal data before publication on the public board (docs/publication.md).

The texts are what the lines really receive: call transcripts, WeChat messages, letters from
enterprises to the 省长直通车, traffic complaints, and the departments' answers.
"""

from __future__ import annotations

import itertools
import random
import time

import pytest

from hotline.masking import Masked, find_personal_data, mask_name, mask_personal_data

# ID numbers below have valid check digits; bank cards pass the Luhn check.
ID_1 = "520102199003071236"
ID_X = "52242619851102000X"

# What the masking keeps as written, and what it masks how: tables by rule, whose every case
# the two tests at the end check (each named after its rule).
KEPT: dict[str, list[str]] = {}
MASKED: dict[str, list[tuple[str, str]]] = {}


# --------------------------------------------------------------------------- whole messages


def test_call_transcript_masks_caller_name_spoken_mobile_and_id_but_keeps_the_hotline():
    transcript = (
        "坐席：您好，贵州省扶贫专线，请讲。\n"
        "来电人：你好，我叫龙文华，是纳雍县阳长镇新春村的，我们村的产业补助到现在还没发。\n"
        "坐席：请问您的联系电话？\n"
        "来电人：幺五九八五零一二三四五。\n"
        "坐席：您的身份证号码是多少？\n"
        "来电人：522426198511020026。\n"
        "坐席：已为您登记，工单号FP20261008-0012，10个工作日内答复，"
        "也可以拨打0851-86833668查询。"
    )
    assert mask_personal_data(transcript) == (
        "坐席：您好，贵州省扶贫专线，请讲。\n"
        "来电人：你好，我叫龙某某，是纳雍县阳长镇新春村的，我们村的产业补助到现在还没发。\n"
        "坐席：请问您的联系电话？\n"
        "来电人：159********。\n"
        "坐席：您的身份证号码是多少？\n"
        "来电人：522426********0026。\n"
        "坐席：已为您登记，工单号FP20261008-0012，10个工作日内答复，"
        "也可以拨打0851-86833668查询。"
    )


def test_wechat_message_masks_flat_number_mobile_and_wechat_id():
    message = (
        "您好，我是观山湖区的居民，家住金阳街道碧海社区碧海花园3栋2单元501室，"
        "楼下烧烤店每天营业到凌晨2点，油烟噪音扰民。我的电话+86 138-8501-2345，"
        "微信号qianxin_2026，有事可以联系我。"
    )
    assert mask_personal_data(message) == (
        "您好，我是观山湖区的居民，家住金阳街道碧海社区碧海花园＊＊，"
        "楼下烧烤店每天营业到凌晨2点，油烟噪音扰民。我的电话+86 138********，"
        "微信号qi****，有事可以联系我。"
    )


ENTERPRISE_LETTER = (
    "尊敬的省长：\n"
    "我公司贵州黔兴农业科技有限公司位于贵阳市乌当区新添大道北段，2025年获评省级农业产业化"
    "重点龙头企业。根据黔府办发〔2016〕39号文件，我公司于2026年3月申报稳岗补贴12.6万元，"
    "至今未拨付，恳请督促相关部门尽快办理。补贴请拨付至公司账户：中国工商银行贵阳乌当支行，"
    "账号2402 0012 0920 0123 456。\n"
    f"联系人：吴国华（总经理），身份证号{ID_1}，手机139 8501 2345，"
    "办公电话0851-85556789，邮箱wuguohua@qxnykj.com。\n"
    "贵州黔兴农业科技有限公司\n"
    "2026年10月8日"
)


def test_enterprise_letter_to_zhitongche_masks_contact_id_account_and_phones():
    assert mask_personal_data(ENTERPRISE_LETTER, known_names=["吴国华"]) == (
        "尊敬的省长：\n"
        "我公司贵州黔兴农业科技有限公司位于贵阳市乌当区新添大道北段，2025年获评省级农业产业化"
        "重点龙头企业。根据黔府办发〔2016〕39号文件，我公司于2026年3月申报稳岗补贴12.6万元，"
        "至今未拨付，恳请督促相关部门尽快办理。补贴请拨付至公司账户：中国工商银行贵阳乌当支行，"
        "账号**** **** **** ***3 456。\n"
        "联系人：吴某某（总经理），身份证号520102********1236，手机139********，"
        "办公电话0851-********，邮箱w***@qxnykj.com。\n"
        "贵州黔兴农业科技有限公司\n"
        "2026年10月8日"
    )


def test_enterprise_letter_contact_is_found_from_the_cue_without_known_names():
    assert "吴某某（总经理）" in mask_personal_data(ENTERPRISE_LETTER)


def test_hardship_appeal_masks_name_home_address_id_and_subsidy_card():
    letter = (
        "我是威宁县哈喇河镇新发村三组的村民杨秀英，今年68岁，儿子王磊在外务工。"
        "我家住新发村三组12号，房屋因暴雨出现裂缝，申请危房改造补助至今未批。"
        f"身份证号{ID_X}，补助请打到我的一卡通6217 0012 3456 7890 122。杨秀英"
    )
    assert mask_personal_data(letter, known_names=["杨秀英"]) == (
        "我是威宁县哈喇河镇新发村＊＊的村民杨某某，今年68岁，儿子王某在外务工。"
        "我家住新发村＊＊，房屋因暴雨出现裂缝，申请危房改造补助至今未批。"
        "身份证号522426********000X，补助请打到我的一卡通**** **** **** ***0 122。杨某某"
    )


def test_traffic_complaint_masks_regular_and_new_energy_plates():
    complaint = (
        "12月3日早上8:30，车牌号为贵A12345的货车和贵A·D12345的新能源车长期占用盲道，"
        "另有贵C·88888在遵义市汇川区违停，请交警部门处理。"
    )
    assert mask_personal_data(complaint) == (
        "12月3日早上8:30，车牌号为贵A***45的货车和贵A·****45的新能源车长期占用盲道，"
        "另有贵C·***88在遵义市汇川区违停，请交警部门处理。"
    )


# --------------------------------------------------------------------------- names


def test_known_names_are_masked_wherever_they_appear_as_surname_and_mou():
    text = "经核实，张三反映情况属实，已将补助发放给张三。张建波的申请另案处理。"
    assert mask_personal_data(text, known_names=["张三", "张建波"]) == (
        "经核实，张某反映情况属实，已将补助发放给张某。张某某的申请另案处理。"
    )


def test_compound_surname_keeps_both_characters():
    assert mask_personal_data("申请人欧阳娜娜，女，汉族。") == "申请人欧阳某某，女，汉族。"
    assert mask_name("欧阳娜娜") == "欧阳某某"
    assert mask_name("张三丰") == "张某某"
    assert mask_name("张三") == "张某"


def test_known_name_in_latin_letters_is_masked_whole():
    assert mask_personal_data("来信人Li Ming反映", known_names=["Li Ming"]) == "来信人某某反映"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我叫张三丰，今年58岁。", "我叫张某某，今年58岁。"),
        ("本人陈静，女，汉族。", "本人陈某，女，汉族。"),
        ("村民王小明反映道路损坏。", "村民王某某反映道路损坏。"),
        ("联系人：李华，请尽快回复。", "联系人：李某，请尽快回复。"),
        ("罗甸县村民罗正华老人反映低保问题。", "罗甸县村民罗某某老人反映低保问题。"),
        ("总经理赵建国同志向省长直通车反映。", "总经理赵某某同志向省长直通车反映。"),
        ("陈红梅女士称其儿子未能入学。", "陈某某女士称其儿子未能入学。"),
        ("村委会主任龙启明表示会尽快处理。", "村委会主任龙某某表示会尽快处理。"),
        ("我妈叫潘金花，她今年70了。", "我妈叫潘某某，她今年70了。"),
    ],
)
def test_names_after_context_cues_are_masked(text: str, masked: str):
    assert mask_personal_data(text) == masked


def test_names_already_in_surname_mou_form_stay():
    text = "反映人周某某家于2019年纳入计划，张某和李某某均已签字。"
    assert mask_personal_data(text) == text


def test_full_name_before_a_title_is_masked_but_surname_with_title_stays():
    text = "张建波先生反映的问题，张先生、李女士、王局长和龙老师均已知悉。"
    assert mask_personal_data(text) == (
        "张某某先生反映的问题，张先生、李女士、王局长和龙老师均已知悉。"
    )


def test_name_found_once_is_masked_at_every_mention():
    text = "村民潘志勇反映其房屋漏雨。经镇政府核实，潘志勇家中确有困难。"
    assert mask_personal_data(text) == (
        "村民潘某某反映其房屋漏雨。经镇政府核实，潘某某家中确有困难。"
    )


KEPT["ordinary words after name cues"] = [
    "本人于今年3月申请危房改造。",
    "村民常常反映饮水困难。",
    "村民安全意识有待提高，村民房屋需要加固。",
    "县委书记高度重视，主任高度重视。",
    "请联系会计师事务所出具报告。",
    "习近平总书记指出要坚持以人民为中心。",
    "老人家里只有孙子一人。",
]


# --------------------------------------------------------------------------- numbers


MASKED["a mobile number keeps its first three digits"] = [
    ("电话13812345678。", "电话138********。"),
    ("电话138-1234-5678。", "电话138********。"),
    ("电话138 1234 5678。", "电话138********。"),
    ("电话+8613812345678。", "电话+86138********。"),
    ("电话+86 138 1234 5678。", "电话+86 138********。"),
    ("电话１３８１２３４５６７８。", "电话138********。"),
]


MASKED["a landline keeps its area code"] = [
    ("我家座机0851-85551234。", "我家座机0851-********。"),
    ("我家座机(0851)85551234。", "我家座机(0851)********。"),
    ("我家座机0857 8223456。", "我家座机0857 *******。"),
    ("我家座机：85551234。", "我家座机：********。"),
]


def test_bare_local_number_without_a_phone_cue_is_not_masked():
    assert mask_personal_data("全县共发放85551234元") == "全县共发放85551234元"
    assert mask_personal_data("编号85551234") == "编号85551234"


KEPT["government hotline numbers"] = [
    "扶贫专线0851-86833668，省长直通车0851-86894627。",
    "请拨打+8685186833668或+8685186894627。",
    "请拨打（0851）86833668，或直接拨打12345、12333、110、120、119。",
]


def test_numbers_declared_public_by_the_caller_are_not_masked():
    # the lines are data an admin can add; the publication step passes their numbers in
    text = "县扶贫办值班手机13985012345，驻村工作队座机0857-6222301。"
    public = ["+86 139 8501 2345", "0857-6222301"]
    assert mask_personal_data(text, public_numbers=public) == text
    assert mask_personal_data(text) == "县扶贫办值班手机139********，驻村工作队座机0857-*******。"


def test_department_office_number_in_an_answer_is_not_masked():
    answer = "如有疑问，请于工作日拨打县民政局社会救助股电话0857-6222301咨询。"
    assert mask_personal_data(answer) == answer


def test_id_number_keeps_division_code_and_last_four_digits():
    assert mask_personal_data(f"身份证号：{ID_1}") == "身份证号：520102********1236"
    # without a cue, a valid birth date and check digit are enough
    assert mask_personal_data(f"证件{ID_X}。") == "证件522426********000X。"


def test_old_fifteen_digit_id_number_is_masked():
    assert mask_personal_data("老身份证520102900307123") == "老身份证520102*****7123"


def test_mistyped_id_number_after_the_cue_is_still_masked():
    # one digit missing and a wrong check digit: still the writer's own number
    assert mask_personal_data("身份证5201021990030712") == "身份证520102******0712"
    assert mask_personal_data("身份证号520102199003071234") == "身份证号520102********1234"


def test_long_number_that_is_not_an_id_but_passes_luhn_is_a_bank_card():
    found = find_personal_data("请转到622848001234567894")
    assert [(m.kind, m.replacement) for m in found] == [("bank_card", "**************7894")]


def test_bank_card_keeps_last_four_digits_and_the_writers_grouping():
    assert mask_personal_data("卡号6222 0212 3456 7890 128") == "卡号**** **** **** ***0 128"
    assert mask_personal_data("银行卡6222021234567890128") == "银行卡***************0128"


def test_account_number_after_a_cue_is_masked_even_without_luhn():
    assert mask_personal_data("账号6222021234567891") == "账号************7891"


def test_order_and_parcel_numbers_are_not_bank_cards():
    text = "订单号202610011234567890，快递单号SF1234567890123。"
    assert mask_personal_data(text) == text


# --------------------------------------------------------------------------- other kinds


def test_email_keeps_first_letter_and_domain():
    assert mask_personal_data("邮箱zhangsan@163.com") == "邮箱z***@163.com"


def test_government_mailbox_is_not_masked():
    text = "或发送邮件至mzj@weining.gov.cn。"
    assert mask_personal_data(text) == text


def test_qq_number_is_masked():
    assert mask_personal_data("我的QQ：123456789") == "我的QQ：12****"


MASKED["an address is kept down to the village or community"] = [
    ("住址：威宁县哈喇河镇新发村第三村民小组门牌号25号", "住址：威宁县哈喇河镇新发村＊＊"),
    ("我家住在碧阳街道洪山社区12组，房子漏水。", "我家住在碧阳街道洪山社区＊＊，房子漏水。"),
    ("家住碧海花园3-2-501", "家住碧海花园＊＊"),
    ("家住花溪区清溪路8号", "家住花溪区清溪路＊＊"),
    ("住在3栋2单元501室", "住在＊＊"),
]


# --------------------------------------------------------------------------- look-alikes


KEPT["policy document and article numbers"] = [
    "根据黔府办发〔2016〕39号文件和国发〔2020〕1号文件执行。",
    "依据《贵州省最低生活保障实施办法》（省人民政府令第12号）第十二条规定。",
    "依据第十二条第三款办理，列入第二批名单。",
]


KEPT["dates and times"] = [
    "于2026年10月1日受理",
    "受理时间2026-10-01 10:30:15",
    "受理日期20261001",
    "2026/10/01上午9点30分回访",
    "二〇二六年十月一日",
    "1990年3月7日出生",
]


def test_case_numbers_of_the_system_are_not_masked():
    text = "工单FP20261123-0001、ZT20261123-0002和BD20261124-10023已合并办理。"
    assert mask_personal_data(text) == text


KEPT["amounts of money"] = ["补助3000元，共计1.5万元。", "每人¥12,000.50，合计人民币5,000元。"]


def test_amount_after_a_mobile_number_neither_hides_it_nor_is_masked():
    # the full-width comma must not turn both into one "amount" 13812345678,3000元
    assert mask_personal_data("电话13812345678，补助3000元。") == "电话138********，补助3000元。"


def test_statistics_years_percentages_and_division_codes_are_not_masked():
    text = (
        "2026年全省共受理4789件，其中一般咨询3452件，占72.08%，同比增长10.5%；"
        "行政区划代码520526，户数300户，涉及资金326.5万元。"
    )
    assert mask_personal_data(text) == text


def test_place_village_and_department_names_are_not_masked():
    text = (
        "威宁彝族回族苗族自治县（威宁县）哈喇河镇新发村、王家寨村、田坝村、向阳村，"
        "贵州省乡村振兴局、毕节市生态环境局七星关分局、省人力资源社会保障厅。"
    )
    assert mask_personal_data(text) == text


# --------------------------------------------------------------------------- the interface


def test_findings_report_kind_position_original_and_replacement():
    text = "村民王小明，电话13812345678。"
    found = find_personal_data(text)
    assert found == [
        Masked("name", 2, 5, "王小明", "王某某"),
        Masked("mobile", 8, 19, "13812345678", "138********"),
    ]
    assert all(text[m.start : m.end] == m.original for m in found)


def test_empty_text_has_no_personal_data():
    assert find_personal_data("") == []
    assert mask_personal_data("") == ""


# --------------------------------------------------------------------------- properties

PERSONAL = [
    "我叫张三丰",
    "村民杨秀英老人",
    "联系人：吴国华",
    "赵建国同志",
    "电话13812345678",
    "+86 139 8501 2345",
    "座机0851-85551234",
    f"身份证号{ID_1}",
    f"身份证{ID_X}",
    "卡号6222 0212 3456 7890 128",
    "家住新发村三组12号",
    "碧海花园3栋2单元501室",
    "贵A·D12345",
    "贵A12345",
    "zhangsan@163.com",
    "微信号qianxin_2026",
]
LOOK_ALIKES = [
    "黔府办发〔2016〕39号",
    "第十二条",
    "2026年10月1日",
    "2026-10-01",
    "20261001",
    "10:30",
    "FP20261123-0001",
    "3000元",
    "¥12,000.50",
    "1.5万元",
    "72.08%",
    "0851-86833668",
    "12345",
    "520526",
    "威宁县哈喇河镇",
    "省乡村振兴局",
]
FILLER = ["，", "。", "反映", "经核实", "请尽快处理", "现", "；", "\n", "和"]


def _random_text(rng: random.Random, pool: list[str]) -> str:
    # a filler between pieces keeps two numbers from running together into a third one
    pieces = [rng.choice(pool) for _ in range(rng.randint(1, 8))]
    return "".join(piece + rng.choice(FILLER) for piece in pieces)


def test_masking_is_idempotent():
    rng = random.Random(20261123)
    for _ in range(300):
        once = mask_personal_data(_random_text(rng, PERSONAL + LOOK_ALIKES))
        assert mask_personal_data(once) == once


def test_text_of_only_look_alikes_is_never_changed():
    rng = random.Random(12345)
    for _ in range(300):
        text = _random_text(rng, LOOK_ALIKES)
        assert mask_personal_data(text) == text


def test_findings_never_overlap_and_match_the_text():
    rng = random.Random(86833668)
    for _ in range(200):
        text = _random_text(rng, PERSONAL + LOOK_ALIKES)
        found = find_personal_data(text)
        assert all(a.end <= b.start for a, b in itertools.pairwise(found))
        assert all(text[m.start : m.end] == m.original for m in found)


def test_masking_a_typical_letter_costs_little_more_than_segmenting_it():
    import jieba

    letter = (ENTERPRISE_LETTER * 2)[:500]
    mask_personal_data(letter)  # loads jieba once per process
    best_mask = best_segment = float("inf")
    # interleaved and compared with plain segmentation on the same machine, so a busy CI box
    # does not fail the test: about 2x, a few milliseconds for 500 characters on a laptop
    for _ in range(20):
        started = time.perf_counter()
        mask_personal_data(letter)
        best_mask = min(best_mask, time.perf_counter() - started)
        started = time.perf_counter()
        jieba.lcut(letter)
        best_segment = min(best_segment, time.perf_counter() - started)
    assert best_mask < 5 * best_segment


# --------------------------------------------------------------------------- room numbers


MASKED["a bare room number after the building and unit goes with them"] = [
    (
        "我住在观山湖区花果园小区3栋2单元501，楼上邻居家卫生间漏水已经半年了，物业一直不管。",
        "我住在观山湖区花果园小区＊＊，楼上邻居家卫生间漏水已经半年了，物业一直不管。",
    ),
    (
        "南明区保利温泉新城5号楼1203住户反映，电梯一个月停了四次。",
        "南明区保利温泉新城＊＊住户反映，电梯一个月停了四次。",
    ),
    (
        "家住金阳街道世纪城龙祥苑A座2203，晚上十点后楼下还在施工。",
        "家住金阳街道世纪城龙祥苑＊＊，晚上十点后楼下还在施工。",
    ),
    (
        "我是中天未来方舟D9组团7栋1单元 2704的业主，开发商承诺的车位至今没有交付。",
        "我是中天未来方舟D9组团＊＊的业主，开发商承诺的车位至今没有交付。",
    ),
]


MASKED["counts and amounts after a building are no room numbers"] = [
    # counts, areas and amounts right after a building or unit are no room numbers
    (
        "花果园小区2单元300多户居民已经停水3天，每户交了1,200元押金。",
        "花果园小区＊＊300多户居民已经停水3天，每户交了1,200元押金。",
    ),
    (
        "碧海花园3楼300平米的商铺被改成了KTV，每晚营业到凌晨2点。",
        "碧海花园＊＊300平米的商铺被改成了KTV，每晚营业到凌晨2点。",
    ),
    (
        "阳光小区5栋1000元的维修基金2026年11月就交了，电梯还是没修。",
        "阳光小区＊＊1000元的维修基金2026年11月就交了，电梯还是没修。",
    ),
]


# --------------------------------------------------------------------------- self-named writers


@pytest.mark.parametrize(
    ("text", "citizen", "masked"),
    [
        (
            "你好，我是张三，在花溪区青岩镇开农家乐，镇上要求我们三天内拆除招牌。",
            "王建国",
            "你好，我是张某，在花溪区青岩镇开农家乐，镇上要求我们三天内拆除招牌。",
        ),
        (
            "我是吴德才，家住威宁县迤那镇五星村3组，替我哥哥吴德明反映危房改造补助的事。",
            "吴德明",
            "我是吴某某，家住威宁县迤那镇五星村＊＊，替我哥哥吴某某反映危房改造补助的事。",
        ),
        (
            "本人李四，在贵阳市白云区务工，工地拖欠工资8600元至今未付。",
            "李建华",
            "本人李某，在贵阳市白云区务工，工地拖欠工资8600元至今未付。",
        ),
        (
            "我叫陈晓梅，是电话登记人的女儿，补充一下情况：母亲的医保报销还没有到账。",
            "罗桂芬",
            "我叫陈某某，是电话登记人的女儿，补充一下情况：母亲的医保报销还没有到账。",
        ),
        (
            "领导好！我是杨秀英。2026年10月申请的临时救助，至今没有消息。",
            None,
            "领导好！我是杨某某。2026年10月申请的临时救助，至今没有消息。",
        ),
    ],
)
def test_name_the_writer_gives_is_masked_though_the_case_records_another(text, citizen,
                                                                         masked):
    assert mask_personal_data(text, [citizen] if citizen else []) == masked


KEPT["what writers say they are"] = [
    "我是党员，这件事我必须反映。",
    "我是贫困户，2025年的产业分红一直没有发。",
    "我是车主，车辆在停车场被刮，监控却说坏了。",
    "我是包工头，手下32个工人的工资被拖欠了三个月。",
    "我是石阡县的，想咨询一下异地就医备案怎么办理。",
    "我是第一次打这个电话，希望能解决。",
]


def test_every_kind_masking_finds_has_a_name_staff_read():
    from hotline.domain.names import PERSONAL_DATA_NAMES
    from hotline.masking import KINDS

    assert set(KINDS) <= set(PERSONAL_DATA_NAMES)


# --------------------------------------------------------------------------- the tables


def by_rule(table: dict[str, list]) -> list:
    """Every case of a table, named after its rule."""
    return [pytest.param(*(case if isinstance(case, tuple) else (case,)), id=f"{rule} {n}")
            for rule, cases in table.items() for n, case in enumerate(cases, 1)]


@pytest.mark.parametrize("text", by_rule(KEPT))
def test_what_is_no_personal_data_is_not_masked(text: str):
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(("text", "masked"), by_rule(MASKED))
def test_personal_data_is_masked_as_its_rule_says(text: str, masked: str):
    assert mask_personal_data(text) == masked
