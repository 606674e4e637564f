"""The router: one message in, one ``Decision`` out (topic, category, region, department).

Building a ``Router`` is cheap (it sorts the rules and indexes the departments), so the core
builds a new one whenever an admin edits the rules; the heavy parts — jieba's dictionary,
the place and topic lexicons — are loaded once per process and shared.
"""

from __future__ import annotations

from collections.abc import Iterable

from routing import categories, places, segment, topics
from routing.learned import Predictor, reading
from routing.model import Decision, Department, Rule
from routing.rules import Context, RuleBook, describe

CATEGORY_NAMES = {
    "policy_consult": "政策咨询",
    "hardship": "困难诉求",
    "complaint": "投诉举报",
    "suggestion": "意见建议",
    "donation": "联系捐赠",
    "general_consult": "一般咨询",
    "situation": "情况反映",
    "consult": "咨询",
    "appeal": "求助",
}

# How much the caller's own region (from the phone number's area or the account profile)
# tells about where the matter is, when the text names no place.
CALLER_REGION_CONFIDENCE = 0.6
# No place in the text: how often a provincial department is then the right one.
NO_PLACE_CONFIDENCE = 0.9
RULE_BASE_CONFIDENCE = 0.97
# Routing reads at most this many characters: a letter states its matter and place early,
# and segmentation costs about 10 ms per 1000 characters, so a 20-page petition pasted into
# the web form cannot hold intake up.
MAX_CHARS = 2000
# The lexicon alone decides a topic the learned model has no examples of when it is at least
# this sure. On a line the model learned from (the shipped model: a city message board's
# posts, seven topics) real messages are nearly always one of its topics: of the 8,593 real
# posts the lexicon put 38 outside them at 0.85, 11 at 0.9, 2 at 0.95 — all wrong. On the other
# lines (扶贫专线, 直通车) most matters are topics the board never had (农村农业, 民政, 经济管理)
# until the centre's own closed cases teach them: there the lexicon's word is enough.
LEXICON_ONLY_CONFIDENCE = 0.95
LEXICON_ONLY_CONFIDENCE_NEW_LINE = 0.3
# A department learned from the centre's closed cases is suggested when no rule decides and at
# least this many cases of the topic in the prefecture were answered, this share by it; its
# confidence stays below the usual auto-dispatch threshold (0.8): an operator confirms it.
HISTORY_MIN_CASES = 5
HISTORY_MIN_SHARE = 0.6
HISTORY_MAX_CONFIDENCE = 0.75


class Router:
    """Routes messages with a fixed set of rules and departments.

    ``Router(rules, departments).route(text, line, caller_region)`` → ``Decision``.
    Thread-safe: routing reads shared data and never changes it.
    """

    def __init__(self, rules: Iterable[Rule], departments: Iterable[Department],
                 model: Predictor | None = None,
                 history: dict[tuple[str, str], dict[str, int]] | None = None) -> None:
        self.book = RuleBook(rules, departments)
        self.model = model
        # (level-1 topic, prefecture code) → {department: closed cases it answered}
        self.history = history or {}

    @property
    def rules(self) -> list[Rule]:
        return list(self.book.rules)

    @property
    def departments(self) -> list[Department]:
        return list(self.book.departments.values())

    def route(self, text: str, line: str, caller_region: str | None = None) -> Decision:
        """Suggest topic, category, region and department for one message."""
        norm = segment.normalize((text or "")[:MAX_CHARS])
        tokens = segment.cut(norm)
        bounds = segment.boundaries(tokens)
        reasons: list[str] = []

        region, region_name, region_conf, region_source = self._region(
            norm, bounds, caller_region, reasons
        )

        cat = categories.suggest(norm, bounds, line)
        implied = categories.IMPLIED_TOPIC.get(cat.category or "")
        extra = []
        if implied is not None and cat.confidence >= 0.5:
            extra.append(topics.TermHit(f"类别{cat.category}", ((implied, 3.0),)))
        scores = topics.score(norm, bounds, extra)
        guess = topics.classify(norm, bounds, line, extra, scores=scores)
        learned = self._learned(norm, tokens, bounds, scores, bool(extra), guess, line)
        if learned is not None:
            guess, probability = learned
            why = "、".join(guess.words[:6])
            reasons.append(f"主题: {'/'.join(p for p in guess.path if p)}（学习模型 {probability:.2f}"
                           + (f"；主题词 {why}" if why else "") + "）")
        topic_path = "/".join(p for p in guess.path if p)
        if learned is not None:
            pass  # said above
        elif guess.words:
            why = "、".join(guess.words[:8])
            runner = f"；次选 {guess.runner_up} {guess.runner_up_score}" if guess.runner_up else ""
            reasons.append(f"主题: {topic_path}（{why}；得分 {guess.score}{runner}）")
        else:
            reasons.append(f"主题: {topic_path}（未识别到主题词，按线路 {line} 默认）")

        if cat.category is not None:
            label = CATEGORY_NAMES.get(cat.category, cat.category)
            cues = "、".join(cat.cues[:6]) if cat.cues else f"无提示词，按线路 {line} 默认"
            reasons.append(f"类别: {cat.category} {label}（{cues}）")

        ctx = Context(norm, line, cat.category, guess.path[0], region)
        winner, others = self.book.first(ctx)
        department, dept_conf, rule_id = None, 0.0, None
        learned = self._from_history(guess.path[0], guess.confidence, region) \
            if winner is None or winner.department is None else None
        if learned is not None:
            department, dept_conf, why = learned
            name = self.book.departments[department].name
            reasons.append(f"部门: {department} {name}（{why}）")
        elif winner is None:
            reasons.append("部门: 无适用规则，交接线员")
        else:
            rule = winner.rule
            rule_id = rule.id
            dept_conf = self._department_confidence(rule, winner.department, guess.confidence,
                                                    cat.confidence, region, region_conf)
            department = winner.department
            target = department or "交接线员"
            name = self.book.departments[department].name if department else ""
            via = f"；{winner.via}" if rule.uses_region else ""
            reasons.append(f"部门: {target} {name}（{describe(rule)}{via}）".replace(" （", "（"))
            alt = next((o for o in others if o.department != department), None)
            if alt is not None:
                reasons.append(f"备选部门: {alt.department or '交接线员'}（{describe(alt.rule)}）")

        return Decision(
            topic=guess.path,
            topic_confidence=guess.confidence,
            category=cat.category,
            category_confidence=cat.confidence,
            region=region,
            region_name=region_name,
            region_confidence=region_conf,
            region_source=region_source,
            department=department,
            department_confidence=round(dept_conf, 3),
            rule_id=rule_id,
            confidence=round(dept_conf, 3) if department else 0.0,
            reasons=reasons,
        )

    def _from_history(self, topic1: str, topic_conf: float,
                      region: str | None) -> tuple[str, float, str] | None:
        """The department that has answered most closed cases of this topic in this prefecture,
        when no rule decides: a suggestion for the operator (never sure enough to dispatch by
        itself: the admin's rules decide what is automatic)."""
        if not self.history or not region:
            return None
        prefecture = region[:4] + "00"
        counts = self.history.get((topic1, prefecture))
        if not counts:
            return None
        total = sum(counts.values())
        department, answered = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        share = answered / total
        if total < HISTORY_MIN_CASES or share < HISTORY_MIN_SHARE or \
                department not in self.book.departments:
            return None
        confidence = min(HISTORY_MAX_CONFIDENCE, share * topic_conf)
        return department, confidence, f"历史：本地区同类 {total} 件中 {answered} 件由其办结"

    def _learned(self, norm: str, tokens: list[str], bounds: frozenset[int],
                 scores: tuple[dict, dict, dict, dict], category_vote: bool,
                 lexical: topics.TopicGuess, line: str) -> tuple[topics.TopicGuess, float] | None:
        """The learned model's level-1 topic (with the lexicon's level 2/3 under it), unless the
        lexicon is sure of a topic the model never learned (纪检监察, 民政 … on a board whose
        data has seven topics)."""
        if self.model is None:
            return None
        learned_lines = self.model.meta.get("lines") or ("board",)
        sure = LEXICON_ONLY_CONFIDENCE if line in learned_lines \
            else LEXICON_ONLY_CONFIDENCE_NEW_LINE
        if lexical.path[0] not in self.model.classes and lexical.confidence >= sure:
            return None
        # The model learned the lexicon's scores of the text alone (no category's vote).
        own = topics.score(norm, bounds) if category_vote else scores
        probabilities = self.model.probabilities(reading(norm, tokens, own))
        top, p = next(iter(probabilities.items()))
        runner, runner_p = list(probabilities.items())[1] if len(probabilities) > 1 else (None, 0)
        path, words = topics.within(scores, top)
        return topics.TopicGuess(path, round(p, 3), round(p, 3), runner, round(runner_p, 3),
                                 words), p

    def _region(self, norm: str, bounds: frozenset[int], caller_region: str | None,
                reasons: list[str]) -> tuple[str | None, str | None, float, str | None]:
        located = places.locate(norm, bounds)
        caller = places.division(caller_region) if caller_region else None
        if caller_region and caller is None:
            reasons.append(f"来电地区 {caller_region} 不是已知区划代码，未采用")
        # A bare 贵州 narrows nothing down: the caller's own region says more.
        if located is not None and not (located.code == places.PROVINCE and caller is not None):
            said = "、".join(dict.fromkeys(f"“{m.name}”" for m in located.mentions))
            note = f"；{located.note}" if located.note else ""
            reasons.append(
                f"地区: {places.display_name(located.code)} {located.code}（文中{said}{note}）"
            )
            return located.code, located.name, located.confidence, "text"
        if caller is not None:
            reasons.append(f"地区: {places.display_name(caller.code)} {caller.code}（文中无地名，用来电地区）")
            return caller.code, caller.name, CALLER_REGION_CONFIDENCE, "caller"
        reasons.append("地区: 文中无地名")
        return None, None, 0.0, None

    @staticmethod
    def _department_confidence(rule: Rule, department: str | None, topic_conf: float,
                               category_conf: float, region: str | None,
                               region_conf: float) -> float:
        """How likely the rule's department is right: the rule's own certainty times the
        certainty of each suggestion it relied on."""
        conf = RULE_BASE_CONFIDENCE
        if rule.topic1 is not None:
            # Keywords that also matched are direct evidence for the topic the rule wants.
            conf *= max(topic_conf, 0.75) if rule.keywords else topic_conf
        if rule.category is not None:
            conf *= category_conf
        if rule.uses_region or rule.region_level in ("prefecture", "county"):
            conf *= region_conf
        elif region is None and department and not department.startswith("gov-"):
            conf *= NO_PLACE_CONFIDENCE
        return conf
