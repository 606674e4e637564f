"""Dispatch rules (分类转办规则): matching, ``{region}`` resolution and the default rule set.

The rules themselves are data the admin edits (the core keeps them in its database and
passes them in); this module only says how they apply:

1. A rule applies when all its set conditions hold (see ``Rule``) and its department
   resolves: a ``{region}`` rule needs a ``gov-`` department for the case's county or
   prefecture, a named department must exist. An empty department (``""``) resolves to
   "no department: leave it to the operator" (纪检监察 goes to the discipline commission,
   which is not a department of this system).
2. Of the rules that apply, the highest ``priority`` wins, then the one with more
   conditions, then the earlier one.

``default_rules()`` is the demo centre's dispatch policy, in four bands:

- 100  matters with their own vertical system whatever the place: taxes (国家税务总局贵州省
       税务局), telecom charges (no 通信管理局 here: 工信厅), discipline matters (operator).
- 20   court matters (judgements, enforcement): no department here, operator.
- 10   a Guizhou county or prefecture is known: that place's government (``{region}``);
       county governments take precedence once an admin adds them.
- 5    no place: the provincial department of a sub-topic (扶贫 → 乡村振兴局, 公积金 →
       住建厅, food and drugs → 市场监管局, loans → 财政厅, 清欠 → 工信厅...).
- 0    no place: the provincial department of the level-1 topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.seed_data import DEPARTMENTS
from routing import places, segment
from routing.model import REGION_PLACEHOLDER, Department, Rule


@dataclass(frozen=True)
class Context:
    """What a rule is matched against."""

    text: str  # normalized
    line: str
    category: str | None
    topic1: str
    region: str | None


@dataclass(frozen=True)
class Resolution:
    rule: Rule
    department: str | None  # None: the rule says "operator"
    via: str  # how the department was found, for the reasons


def region_level(region: str | None) -> str:
    """``province`` / ``prefecture`` / ``county`` as rules see a case's region."""
    div = places.division(region)
    if div is None or not div.in_guizhou or div.level == "province":
        return "province"
    return div.level


def matches(rule: Rule, ctx: Context, keywords: tuple[str, ...] | None = None) -> bool:
    """Whether every condition the rule sets holds for the case.

    ``keywords``: the rule's keywords already normalized (the rule book does it once).
    """
    if rule.line is not None and rule.line != ctx.line:
        return False
    if rule.category is not None and rule.category != ctx.category:
        return False
    if rule.topic1 is not None and rule.topic1 != ctx.topic1:
        return False
    if rule.keywords:
        wanted = keywords if keywords is not None else normalized_keywords(rule)
        if not any(k in ctx.text for k in wanted):
            return False
    if rule.region_level is not None:
        level = region_level(ctx.region)
        if rule.region_level == "province" and level != "province":
            return False
        if rule.region_level == "prefecture" and level == "province":
            return False
        if rule.region_level == "county" and level != "county":
            return False
    return True


def normalized_keywords(rule: Rule) -> tuple[str, ...]:
    """A rule's keywords as the text is compared: half-width, lower case."""
    return tuple(segment.normalize(k) for k in rule.keywords if k)


class RuleBook:
    """Rules in precedence order, with the departments they may name."""

    def __init__(self, rules: Iterable[Rule], departments: Iterable[Department]) -> None:
        self.departments = {d.code: d for d in departments}
        # region code → the government department of that region
        self.governments: dict[str, Department] = {}
        for d in self.departments.values():
            if d.is_government:
                # gov-520526 names its region in its code: that wins over a region field
                # entered coarser by mistake. gov-guian has only its region field (520900).
                suffix = d.code[4:]
                region = suffix if len(suffix) == 6 and suffix.isdigit() else d.region
                self.governments.setdefault(places.current_code(region), d)
        indexed = list(enumerate(rules))
        indexed.sort(key=lambda ir: (-ir[1].priority, -ir[1].conditions, ir[0]))
        self.rules = [r for _, r in indexed]
        self._keywords = [normalized_keywords(r) for r in self.rules]

    def government_of(self, region: str | None) -> tuple[Department | None, str]:
        """The most specific ``gov-`` department for a region (county, else prefecture)."""
        if region is None:
            return None, "无地区"
        tried = []
        for code in places.chain(region):
            div = places.division(code)
            if div is None or div.level == "province":
                break
            dept = self.governments.get(code)
            if dept is not None:
                skipped = f"（无 gov-{tried[0]}）" if tried else ""
                return dept, f"{places.display_name(region)}→{dept.code}{skipped}"
            tried.append(code)
        return None, f"{places.display_name(region)} 无对应政府部门"

    def resolve(self, rule: Rule, region: str | None) -> Resolution | None:
        """The department the rule names for this case, or None when it cannot apply."""
        if rule.department == "":
            return Resolution(rule, None, "交接线员")
        if rule.uses_region:
            dept, via = self.government_of(region)
            if dept is None:
                return None
            return Resolution(rule, dept.code, via)
        if rule.department not in self.departments:
            return None  # a rule naming a department that was removed: skip, don't crash
        return Resolution(rule, rule.department, rule.department)

    def first(self, ctx: Context) -> tuple[Resolution | None, list[Resolution]]:
        """The winning resolution and the other applicable ones (best first)."""
        found = []
        for rule, keywords in zip(self.rules, self._keywords, strict=True):
            if matches(rule, ctx, keywords):
                res = self.resolve(rule, ctx.region)
                if res is not None:
                    found.append(res)
        return (found[0] if found else None), found[1:]


def describe(rule: Rule) -> str:
    """A rule's conditions in a line, for the reasons of a decision."""
    parts = []
    if rule.line:
        parts.append(f"线路={rule.line}")
    if rule.category:
        parts.append(f"类别={rule.category}")
    if rule.topic1:
        parts.append(f"主题={rule.topic1}")
    if rule.keywords:
        parts.append("关键词∈{" + "、".join(rule.keywords[:6]) + ("…" if len(rule.keywords) > 6 else "") + "}")
    if rule.region_level:
        parts.append(f"地区级别={rule.region_level}")
    label = f"规则 #{rule.id}" if rule.id is not None else "规则"
    return f"{label}（优先级 {rule.priority}）: " + ("，".join(parts) or "任意")


# --- the demo centre's policy -----------------------------------------------------------

# Level-1 topic → the provincial department that handles it when no place is known.
PROVINCIAL = {
    "劳动和社会保障": "gz-hrss",
    "农村农业": "gz-agri",
    "民政": "gz-civil",
    "城乡建设": "gz-housing",
    "国土资源": "gz-natres",
    "环境保护": "gz-env",
    "教育文体": "gz-education",
    "卫生计生": "gz-health",
    "交通运输": "gz-transport",
    "商贸旅游": "gz-commerce",
    "经济管理": "gz-dev",
    "政法": "gz-public-security",
    "科技与信息产业": "gz-industry",
    "党务政务": "",  # no 党委 departments here: the operator decides
}

TAX = ("税务", "纳税", "发票", "增值税", "个税", "所得税", "退税", "留抵", "加计扣除", "税收",
       "税费", "税额", "免征", "定期定额", "稽查", "减税", "免税")
# Operators' charges and conduct go to the telecoms regulator whatever the place; coverage
# (信号, 基站) is the local government's to coordinate, like any other local matter.
TELECOM_BILLING = ("运营商", "移动公司", "联通", "电信公司", "话费", "套餐", "增值业务", "扣费",
                   "骚扰电话", "短信", "携号转网", "流量", "资费")
COURT = ("法院", "判决", "被执行人", "强制执行", "老赖", "诉讼", "起诉", "打官司", "律师")
POVERTY = ("扶贫", "脱贫", "贫困", "建档立卡", "搬迁", "帮扶", "雨露计划", "返贫", "边缘户",
           "监测户", "驻村", "第一书记", "乡村振兴", "东西部协作", "小额信贷")
FOOD_DRUG = ("食品", "药店", "药品", "假药", "处方药", "保健品", "化妆品", "餐馆", "饭店", "小吃",
             "奶粉", "后厨", "食物中毒", "食药监", "医疗器械", "小作坊", "生产许可", "拉肚子",
             "上吐下泻", "变质", "过期")
MARKET = ("质量", "假货", "假冒", "伪劣", "退货", "退换", "售后", "消费者", "12315", "网购",
          "商标", "传销", "广告", "缺斤少两", "短斤少两", "物价", "涨价", "宰客", "标价", "执照",
          "注册公司", "市场监管", "工商", "超市", "菜市场", "预付卡", "会员卡", "健身", "假酒",
          "特种设备", "不正当竞争", "罚款", "网上买", "假的", "退", "直播")
IP = ("知识产权", "专利", "商标", "侵权", "盗版")
FORESTRY = ("林业", "砍伐", "滥伐", "盗伐", "林权", "林地", "森林", "退耕还林", "山火", "野生动物",
            "捕鸟", "保护动物", "木材")
FINANCE = ("融资", "贷款", "银行", "担保", "网贷", "催收", "国债", "理财", "集资", "利息", "征信",
           "贴息", "抽贷", "断贷", "财政", "专项资金", "政府采购", "预算", "失信", "逾期")
ARREARS = ("拖欠货款", "货款", "账款", "欠付", "尾款", "清欠", "项目款", "工程款", "服务费",
           "拖欠", "欠我们")
SME = ("中小企业", "小微企业", "中小微", "专精特新", "技改", "软件企业")
TRANSIT = ("公交", "地铁", "轻轨", "班车")
POWER = ("停电", "供电", "电价", "电费", "用电")


def default_rules(departments: Iterable[Department]) -> list[Rule]:
    """The demo dispatch policy (see the module docstring) for the departments that exist.

    Rules naming a department that is not in ``departments`` are left out; ids are 1..n in
    list order (the core may store them under its own ids).
    """
    have = {d.code for d in departments}
    specs: list[tuple] = []

    def add(priority: int, department: str, *, line=None, category=None, topic1=None,
            keywords=(), region_level=None) -> None:
        if department and department != REGION_PLACEHOLDER and department not in have:
            return
        specs.append((line, category, topic1, tuple(keywords), region_level, department, priority))

    # 100: vertical systems, and matters that must not go to the local government.
    add(100, "", topic1="纪检监察")
    add(100, "gz-tax", topic1="经济管理", keywords=TAX)
    add(100, "gz-industry", topic1="科技与信息产业", keywords=TELECOM_BILLING)
    # 20: courts are not departments of this system.
    add(20, "", topic1="政法", keywords=COURT)
    # 10: a place in Guizhou is known → its government.
    for topic in PROVINCIAL:
        add(10, REGION_PLACEHOLDER, topic1=topic, region_level="prefecture")
    # 5: no place → the provincial department of the sub-topic.
    add(5, "gz-fupin", line="fupin", category="donation")
    add(5, "gz-fupin", topic1="农村农业", keywords=POVERTY)
    add(5, "gz-housing", keywords=("公积金",))
    add(5, "gz-market", topic1="卫生计生", keywords=FOOD_DRUG)
    add(5, "gz-market", topic1="商贸旅游", keywords=MARKET)
    add(5, "gz-market", topic1="科技与信息产业", keywords=IP)
    add(5, "gz-natres", topic1="农村农业", keywords=FORESTRY)
    add(5, "gz-hrss", topic1="政法", keywords=("劳动仲裁", "劳动监察"))
    add(5, "gz-transport", topic1="城乡建设", keywords=TRANSIT)
    add(5, "gz-dev", topic1="城乡建设", keywords=POWER)
    add(5, "gz-industry", topic1="经济管理", keywords=ARREARS)
    add(5, "gz-industry", topic1="经济管理", keywords=SME)
    add(5, "gz-finance", topic1="经济管理", keywords=FINANCE)
    # 0: no place → the provincial department of the level-1 topic.
    for topic, dept in PROVINCIAL.items():
        add(0, dept, topic1=topic)
    return [
        Rule(i, line, cat, topic1, kws, level, dept, prio)
        for i, (line, cat, topic1, kws, level, dept, prio) in enumerate(specs, 1)
    ]


def demo_departments() -> list[Department]:
    """The demo departments the core seeds (one list, in ``hotline.seed_data``)."""
    return [Department(code, name, region) for code, name, region in DEPARTMENTS]
