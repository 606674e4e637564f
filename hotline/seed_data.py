"""The demo lines (with their categories) and the Guizhou departments, as plain data: the
database seeding (hotline.seed) writes them, routing's demo rules and evaluation
(routing.rules.demo_departments) read them. No database or Flask here, so a library that needs
the list does not import the app."""

from __future__ import annotations

LINES = [
    {
        "code": "fupin", "name": "扶贫专线", "number_prefix": "FP",
        "phone_number": "+8685186833668", "hours": "00:00-24:00",
        "categories": [("policy_consult", "政策咨询"), ("hardship", "困难诉求"),
                       ("complaint", "投诉举报"), ("suggestion", "意见建议"),
                       ("donation", "联系捐赠")],
    },
    {
        "code": "zhitongche", "name": "服务民营企业省长直通车", "number_prefix": "ZT",
        "phone_number": "+8685186894627", "hours": "09:00-17:00",
        "categories": [("general_consult", "一般咨询"), ("situation", "情况反映"),
                       ("policy_consult", "政策咨询"), ("suggestion", "意见建议")],
    },
    {
        "code": "board", "name": "省长信箱 · 群众直通交流台", "number_prefix": "BD",
        "phone_number": None, "hours": "00:00-24:00",
        "categories": [("consult", "咨询"), ("complaint", "投诉"), ("suggestion", "建议"),
                       ("appeal", "求助")],
    },
]

# Provincial departments the sources name, and the nine prefecture-level governments plus
# 贵安新区, each with its administrative division code.
DEPARTMENTS = [
    ("gz-fupin", "贵州省乡村振兴局（扶贫办）", "520000"),
    ("gz-hrss", "贵州省人力资源和社会保障厅", "520000"),
    ("gz-dev", "贵州省发展和改革委员会", "520000"),
    ("gz-industry", "贵州省工业和信息化厅", "520000"),
    ("gz-commerce", "贵州省商务厅", "520000"),
    ("gz-housing", "贵州省住房和城乡建设厅", "520000"),
    ("gz-education", "贵州省教育厅", "520000"),
    ("gz-health", "贵州省卫生健康委员会", "520000"),
    ("gz-natres", "贵州省自然资源厅", "520000"),
    ("gz-env", "贵州省生态环境厅", "520000"),
    ("gz-transport", "贵州省交通运输厅", "520000"),
    ("gz-market", "贵州省市场监督管理局", "520000"),
    ("gz-civil", "贵州省民政厅", "520000"),
    ("gz-agri", "贵州省农业农村厅", "520000"),
    ("gz-finance", "贵州省财政厅", "520000"),
    ("gz-tax", "国家税务总局贵州省税务局", "520000"),
    ("gz-public-security", "贵州省公安厅", "520000"),
    ("gov-520100", "贵阳市人民政府", "520100"),
    ("gov-520200", "六盘水市人民政府", "520200"),
    ("gov-520300", "遵义市人民政府", "520300"),
    ("gov-520400", "安顺市人民政府", "520400"),
    ("gov-520500", "毕节市人民政府", "520500"),
    ("gov-520600", "铜仁市人民政府", "520600"),
    ("gov-522300", "黔西南布依族苗族自治州人民政府", "522300"),
    ("gov-522600", "黔东南苗族侗族自治州人民政府", "522600"),
    ("gov-522700", "黔南布依族苗族自治州人民政府", "522700"),
    # 贵安新区 is no statutory division; routing's place data gives it 520900.
    ("gov-guian", "贵安新区管理委员会", "520900"),
]
