"""Category (事项类别) suggestion per line, from cue words.

Each line has its own category set (docs/channels.md): ``fupin`` policy_consult / hardship / complaint
/ suggestion / donation; ``zhitongche`` general_consult / situation / policy_consult /
suggestion; ``board`` consult / complaint / suggestion / appeal. The cues are line-neutral
kinds of speech act — asking, asking about a policy, objecting, proposing, asking for help,
offering to give — and each line maps them onto its categories. A line with no cue gets its
most common category with a low confidence (省长直通车: 一般咨询 is 72% of its cases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from routing import segment

# Cue words by speech act, weight 2 unless given. Matching is leftmost-longest on the text.
CUES: dict[str, str] = {
    "ask": """
        请问:3 咨询:3 想问:3 问一下:3 问下:2.5 想了解:3 了解一下:2.5 问个事:3 打听:2
        怎么办理:3 怎么申请:3 如何申请:3 怎么办:1 怎么:1.5 如何:1.5 哪里:1.5 在哪:1.5 哪个部门:2.5
        多少:1.5 需要什么:2.5 需要哪些:2.5 什么条件:2 什么时候:1.5 能不能:1 可不可以:1.5 可以吗:2
        是不是:1 是否:1.5 有没有:1.5 还有没有:1.5 吗:0 算不算:1.5 能否:1.5 要不要:1.5 会不会:1.5
        需要预约:2 流程:2 手续:1 补办:2 办理:1 查询:2 怎样:1.5 几点:1.5 多长时间:2
    """,
    "policy": """
        政策:3 补贴:1.5 补助:1.5 标准:1.5 规定:1.5 条件:1.5 优惠:2 措施:2 享受:2 申报:1.5 资格:1
        扶持:1.5 免征:2 减免:1.5 办法:1 比例:1.5 额度:1.5 贴息:1.5 待遇:1 认定:1
        教育资助:2 资助政策:2
    """,
    "object": """
        投诉:3 举报:3 反映:2 曝光:2.5 不公:2.5 不公平:2.5 强制:2 强行:2 强迫:2 克扣:2.5 优亲厚友:3
        弄虚作假:3 乱收费:3 不作为:3 没人管:2.5 没有人管:2.5 不管:2 推诿:3 拖欠:2.5 欠:0 虚设:2.5
        形同虚设:3 违规:2.5 违法:2.5 非法:2 私自:2 擅自:2 态度恶劣:3 态度差:2.5 态度很差:2.5
        态度太差:2.5 严重:1.5 太差:2 太贵:1.5 扰民:2 不给:1.5 不退:2 拒绝:1.5 被骗:1.5 虐待:3
        猫腻:3 查处:2.5 查一下:2 彻查:3 要求:0.5 意见很大:2.5 意见大:2.5 不合理:2.5 合理吗:2.5
        这合理吗:3 凭什么:2.5 谁来管:3 谁负责:2 管一管:2.5 管管:2.5 不按:1.5 至今:1 一直没有:1.5
        一直不:1.5 还没有:1 都没有:1 没有下文:2.5 打水漂:2 宰客:2 走过场:2.5 形式主义:2.5
        卡着:2 刁难:3 不兑现:2.5 没兑现:2.5 不认账:2.5 跑路:2 冒用:2 侵权:2 假:0 怀疑:1.5
        浪费:2 逍遥法外:2 恶劣:2 过期:1 污染:1.5 偷排:2 敢怒不敢言:3 拖延:2 拖着:2 迟迟:2
        没结果:2 太低:1.5 太重:1.5 不够:1 压价:2 不承认:2 不认:1.5 被取消:2 扣了:2 被扣:2 违反:2.5
        不按时:2 偷偷:2 合法:1 是不是真的:1.5 没到位:1.5 一刀切:2 频繁:2 注销:1.5 不还:2 霸占:2.5
        占了:1.5 受骗:2 上当:2 没有回复:2 不回复:2 拒载:2 不打表:2 虚假:2 没做到:2 做不到:1.5
        没接通:2 不通过:1.5 拖了:2 催一下:2 催办:2 太高:1.5 太难:1.5 难以承受:2.5 承受不了:2.5
        走流程:1.5 没有兑现:2.5 至今未:2 一拖再拖:3 无果:2.5
    """,
    # The writer's own family or self is the one harmed: an appeal or hardship rather
    # than a report about others.
    "personal": """
        我家:1 我们家:1 我父亲:1.5 我母亲:1.5 我儿子:1.5 我女儿:1.5 我老公:1.5 我老婆:1.5
        我爸:1.5 我妈:1.5 我丈夫:1.5 我妻子:1.5 我本人:1 我父母:1.5 我今年:1.5 我在:0.5
    """,
    "suggest": """
        建议:3 希望:0.5 提议:3 呼吁:2.5 应该:1 能否考虑:3 最好:1 多一些:1.5 增加:1 加强:1.5
        简化:1.5 推广:1 完善:1.5 意见建议:3 提个建议:3 改进:1.5 多建:2 开通:1 延长:1 继续保持:2.5
    """,
    "hardship": """
        困难:2 求助:3 帮帮:3 帮帮忙:3 帮忙:1.5 救助:2 过不下去:3 生活困难:3 家庭困难:2.5 没钱:2
        交不起:2.5 看不起病:3 没有收入:2.5 没得:1 撑不下去:3 实在:1.5 请求:1.5 申请:1 无家可归:2.5
        没有工作:2 残疾:1 瘫痪:1.5 生病:1.5 孤儿:1.5 可怜:2 供不起:2.5 走投无路:3 欠债:2
        还不上:2 损失:1.5 返贫:1.5 没人照顾:2.5 回不了家:2.5 恳请:1.5 借的钱:2 欠债:2 债:0
        一屁股债:3 没有劳动力:2.5 靠我一个人:2.5 照顾:1 全死了:2 病:0 住院:1 老伴:1 生活都成问题:3
    """,
    "donate": """
        捐赠:3 捐款:3 捐物:3 捐一批:3 捐一些:3 想捐:3 捐给:3 资助:1.5 想资助:3 爱心:2 献爱心:3 慈善:2
        结对资助:3 对接:1.5 助学活动:2 公益:1.5 赞助:2.5
    """,
    "appeal": """
        恳请:3 请求:3 恳求:3 维权:2.5 讨回:3 追回:3 帮我:2.5 帮帮:3 为我们:2 做主:3 主持公道:3
        督促:2 要求赔偿:2.5 赔偿:1.5 补偿:1 解决:1.5 帮助:1.5 希望政府:1.5 请领导:2.5 请政府:2.5
        请相关部门:1.5 关注:1 没有结果:2 没有进展:2.5 一直没有消息:2.5 没有消息:2 血汗钱:2
    """,
}

# How each line turns speech acts into its categories: category → {cue kind: weight}.
LINE_CATEGORIES: dict[str, dict[str, dict[str, float]]] = {
    "fupin": {
        "policy_consult": {"ask": 1.0, "policy": 0.8},
        "hardship": {"hardship": 1.1, "appeal": 0.4, "personal": 0.6},
        "complaint": {"object": 1.1},
        "suggestion": {"suggest": 1.2},
        "donation": {"donate": 1.6},
    },
    "zhitongche": {
        # 政策咨询 is under 1% of this line's cases (docs/channels.md): questions are 一般咨询 unless
        # they are plainly about a policy.
        "general_consult": {"ask": 1.0, "policy": 0.3},
        "policy_consult": {"ask": 0.3, "policy": 0.9},
        "situation": {"object": 1.0, "appeal": 0.6, "hardship": 0.5},
        "suggestion": {"suggest": 1.5},
    },
    "board": {
        "consult": {"ask": 1.0, "policy": 0.3},
        "complaint": {"object": 1.0},
        "suggestion": {"suggest": 1.4},
        "appeal": {"appeal": 1.0, "hardship": 0.7, "personal": 0.8},
    },
}

# Categories that settle the topic: an offer to donate is 民政/福利慈善/慈善捐助 whatever
# it is for (schools, poor villages).
IMPLIED_TOPIC: dict[str, tuple[str, str | None, str | None]] = {
    "donation": ("民政", "福利慈善", "慈善捐助"),
}

DEFAULT_CATEGORY = {"fupin": "complaint", "zhitongche": "general_consult", "board": "complaint"}


@dataclass(frozen=True)
class CategoryGuess:
    category: str | None
    confidence: float
    cues: tuple[str, ...]


@lru_cache(maxsize=1)
def lexicon() -> segment.Lexicon[tuple[str, float]]:
    lex: segment.Lexicon[tuple[str, float]] = segment.Lexicon(pairs="any")
    for kind, text in CUES.items():
        for item in text.split():
            word, _, weight = item.partition(":")
            if len(word) >= 2 and word not in lex:
                lex.add(word, (kind, float(weight) if weight else 2.0))
    return lex


def speech_acts(text: str, bounds: frozenset[int]) -> tuple[dict[str, float], list[str]]:
    """Cue kind → summed weight, and the cue words found."""
    acts: dict[str, float] = {}
    found: list[str] = []
    for m in lexicon().scan(text, bounds):
        kind, weight = m.value
        if weight <= 0 or m.term in found:
            continue
        acts[kind] = acts.get(kind, 0.0) + weight
        found.append(m.term)
    # A question mark or a final 吗/呢 is a question even without a question word.
    stripped = text.rstrip(" 。.!！")
    if stripped.endswith(("?", "？", "吗", "呢")):
        acts["ask"] = acts.get("ask", 0.0) + 1.5
        found.append("？")
    # 捐 on its own (捐点钱, 捐了) is the clearest sign of a donation offer.
    if "捐" in text and "donate" not in acts:
        acts["donate"] = 2.0
        found.append("捐")
    return acts, found


def suggest(text: str, bounds: frozenset[int], line: str) -> CategoryGuess:
    """The category of ``text`` on ``line``; None for a line without known categories."""
    table = LINE_CATEGORIES.get(line)
    if table is None:
        return CategoryGuess(None, 0.0, ())
    acts, cues = speech_acts(text, bounds)
    scores = {
        cat: sum(acts.get(kind, 0.0) * w for kind, w in mix.items()) for cat, mix in table.items()
    }
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), (_, s2) = ranked[0], ranked[1]
    if s1 <= 0:
        return CategoryGuess(DEFAULT_CATEGORY[line], 0.5, ())
    # Same shape as the topic confidence (see topics._confidence), fitted the same way.
    evidence = 1.0 - math.exp(-s1 / 1.0)
    margin = s1 / (s1 + s2)
    return CategoryGuess(best, round(min(0.98, evidence * (0.2 + 0.8 * margin)), 3), tuple(cues))


def categories_of(line: str) -> list[str]:
    return list(LINE_CATEGORIES.get(line, {}))
