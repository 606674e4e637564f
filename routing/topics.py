"""Topic classification (问题分类) on the three-level taxonomy of ``routing/topics.csv``.

Scores come from the weighted vocabulary in ``data/topic_terms.txt``: each word found in the
text adds its weight to its topic path and that path's ancestors. The level-1 topic with the
highest score wins; inside it, the best supported level-2 and then level-3 topic are given
only when some word points at them. A line adds a small prior (the 扶贫专线 hears mostly
about 农村农业/扶贫开发), which also gives the topic when no word is found at all: every case
gets a level-1 topic. A message-board post's title (a short first line) is the writer's own
summary of the matter, so its words weigh more than the details' (``TITLE_WEIGHT``).

Words are of two kinds. Most name the *matter* (拖欠工资, 过期食品, 排污, 传销). Some only
name the *setting* — the place, institution, object or person the matter happened at or to
(快递公司, 物业, 学校, 超市, 医院, 小区, 电动车, 贫困户); they are marked ``~`` in the
vocabulary. A courier's unpaid wages are a labour matter, not a postal one; a school
canteen's hygiene is food safety, not education. So once a message names a matter (its
non-setting words give some topic at least ``MATTER_MIN``), a topic's setting words count
in full only if its own matter score is at least ``MATTER_SHARE`` of the best one, else
``SETTING_WEIGHT`` times their weight. A message of setting words alone keeps them all.

Confidence rises with the winning score and falls with a close runner-up; see ``_confidence``.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from routing import segment

HERE = Path(__file__).parent
TAXONOMY = HERE / "topics.csv"
TERMS = HERE / "data" / "topic_terms.txt"
DEFAULT_WEIGHT = 2.0

Path3 = tuple[str, str | None, str | None]

# What a line mostly hears about: a nudge for close calls, and the answer when no word is
# found (weight, and the topic path given in that case).
LINE_PRIOR: dict[str, tuple[float, Path3]] = {
    "fupin": (1.0, ("农村农业", "扶贫开发", None)),
    "zhitongche": (0.6, ("经济管理", None, None)),
    "board": (0.0, ("城乡建设", None, None)),
}
FALLBACK: Path3 = ("党务政务", "其他", "其他")

# A message-board post (and a web message with a title) starts with its title on a line of
# its own: the writer's own summary of the matter (小区油烟扰民, 拖欠工资), while the details
# wander (the restaurant, the landlord, the children). Words of such a title count this many
# times their weight: twice, so that a matter named in the title outweighs the same-weight
# setting the details dwell on (医院停车难 vs 停车场, 车位; 没有配套小学 vs 小区, 规划) — 1.75 to
# 2 did best on the four older labelled sets, 1.5 and 2.5 each lost three or four posts.
# A first line longer than TITLE_MAX_CHARS is not a title but the text.
TITLE_WEIGHT = 2.0
TITLE_MAX_CHARS = 50

# Setting words (~ in the vocabulary) next to a matter word: see the module docstring.
SETTING_WEIGHT = 0.5
MATTER_MIN = 2.0
MATTER_SHARE = 0.5

# Some matters are about how a matter was handled, not about the matter: an official's
# misconduct (贪污, 受贿, 挪用, 优亲厚友, 打击报复, 公款吃喝, 吃拿卡要) is 纪检监察's whatever area
# it touches — the 扶贫资金 embezzled, the 低保 handed to relatives, the 招标 rigged. Once
# such a topic's matter words reach OVERRIDE_MIN (one decisive word), every other topic's
# words count as setting words next to it (SETTING_WEIGHT times their weight).
OVERRIDING = ("纪检监察",)
OVERRIDE_MIN = 3.0


@dataclass(frozen=True)
class TermHit:
    """A vocabulary word found in the text, with the topic paths it votes for."""

    term: str
    votes: tuple[tuple[Path3, float], ...]
    setting: bool = False  # names where the matter happened, not the matter (~ in the file)


@dataclass(frozen=True)
class TopicGuess:
    """The suggested topic of a text."""

    path: Path3
    confidence: float
    score: float
    runner_up: str | None
    runner_up_score: float
    words: tuple[str, ...]  # the words that voted for the winning level-1 topic


@lru_cache(maxsize=1)
def taxonomy() -> frozenset[Path3]:
    """Every (level1, level2, level3) of the taxonomy, with its level-1 and level-2 prefixes."""
    paths: set[Path3] = set()
    with TAXONOMY.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            l1, l2, l3 = row["level1"], row["level2"], row["level3"]
            paths.update({(l1, None, None), (l1, l2, None), (l1, l2, l3)})
    return frozenset(paths)


def level1_topics() -> list[str]:
    return sorted({p[0] for p in taxonomy()})


def taxonomy_path(text: str) -> Path3 | None:
    """The taxonomy's (level1, level2, level3) for "城乡建设/住房保障" and the like (levels not
    given are None), or None when the text names no topic of the taxonomy."""
    parts = [p.strip() for p in text.split("/")]
    if not 1 <= len(parts) <= 3:
        return None
    parts += [None] * (3 - len(parts))  # type: ignore[list-item]
    path: Path3 = (parts[0], parts[1], parts[2])  # type: ignore[assignment]
    return path if path in taxonomy() else None


def _parse_path(text: str) -> Path3:
    path = taxonomy_path(text)
    if path is None:
        raise ValueError(f"{TERMS.name}: {text!r} is not in {TAXONOMY.name}")
    return path


@lru_cache(maxsize=1)
def lexicon() -> segment.Lexicon[TermHit]:
    """The topic vocabulary; a word under several topics splits its weight among them."""
    return _vocabulary()[0]


@lru_cache(maxsize=1)
def combinations() -> tuple[tuple[tuple[tuple[str, ...], ...], TermHit], ...]:
    """Word pairs that count when both occur anywhere (拖欠+工资: 拖欠我们三个月工资).

    Each side may list alternatives (欠|拖欠+工资|工钱); a pair counts once however many
    alternatives occur."""
    return _vocabulary()[1]


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[segment.Lexicon[TermHit], tuple]:
    votes: dict[str, list[tuple[Path3, float]]] = defaultdict(list)
    settings: set[str] = set()
    path: Path3 | None = None
    for lineno, raw in enumerate(TERMS.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            path = _parse_path(line.strip("[]"))
            continue
        if path is None:
            raise ValueError(f"{TERMS.name}:{lineno}: words before any [topic]")
        for item in line.split():
            word, _, weight = item.partition(":")
            if word.startswith("~"):
                word = word[1:]
                settings.add(segment.normalize(word))
            votes[segment.normalize(word)].append((path, float(weight) if weight else DEFAULT_WEIGHT))
    lex: segment.Lexicon[TermHit] = segment.Lexicon(pairs="edge")
    combos = []
    for word, vs in votes.items():
        share = 1.0 / len(vs)
        hit = TermHit(word, tuple((p, w * share) for p, w in vs), word in settings)
        if "+" in word:
            combos.append((tuple(tuple(alt.split("|")) for alt in word.split("+")), hit))
        else:
            lex.add(word, hit)
    return lex, tuple(combos)


def score(text: str, bounds: frozenset[int],
          extra: list[TermHit] | None = None) -> tuple[dict, dict, dict, dict]:
    """The lexicon's scores of ``text`` per level-1, level-2 and level-3 topic and the words
    behind them: read once, then used by ``classify``, ``within`` and the learned model."""
    return _scores(text, bounds, extra or [])


def classify(text: str, bounds: frozenset[int], line: str | None = None,
             extra: list[TermHit] | None = None,
             scores: tuple[dict, dict, dict, dict] | None = None) -> TopicGuess:
    """The topic of ``text`` (normalized; ``bounds`` from its segmentation).

    ``extra``: votes from outside the vocabulary (the router adds one for a confident
    category that implies a topic: 联系捐赠 → 民政/福利慈善/慈善捐助). ``scores``: from
    ``score`` when the caller has them already.
    """
    if scores is None:
        scores = _scores(text, bounds, extra or [])
    s1, s2 = defaultdict(float, scores[0]), defaultdict(float, scores[1])
    s3, words = scores[2], scores[3]
    prior_weight, prior_path = LINE_PRIOR.get(line or "", (0.0, FALLBACK))
    if not s1:
        # Nothing recognisable: the line's usual topic, with a confidence that says so.
        return TopicGuess(prior_path, 0.1, 0.0, None, 0.0, ())
    if prior_weight:
        s1[prior_path[0]] += prior_weight
        if prior_path[1] is not None:
            s2[(prior_path[0], prior_path[1])] += prior_weight / 2
    ranked = sorted(s1.items(), key=lambda kv: (-kv[1], kv[0]))
    top, score = ranked[0]
    runner, runner_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
    l2 = _best({k[1]: v for k, v in s2.items() if k[0] == top})
    l3 = None
    if l2 is not None:
        l3 = _best({k[2]: v for k, v in s3.items() if k[0] == top and k[1] == l2 and k[2]})
    return TopicGuess(
        (top, l2, l3),
        _confidence(score, runner_score),
        round(score, 2),
        runner,
        round(runner_score, 2),
        tuple(words.get(top, ())),
    )


def within(scores: tuple[dict, dict, dict, dict],
           level1: str) -> tuple[Path3, tuple[str, ...]]:
    """The best path under a level-1 topic decided elsewhere (the learned model), and the
    words that voted for it: the lexicon still names the level 2/3 and the reasons."""
    _s1, s2, s3, words = scores
    l2 = _best({k[1]: v for k, v in s2.items() if k[0] == level1})
    l3 = None
    if l2 is not None:
        l3 = _best({k[2]: v for k, v in s3.items() if k[0] == level1 and k[1] == l2 and k[2]})
    return (level1, l2, l3), tuple(words.get(level1, ()))


def level1_scores(text: str, bounds: frozenset[int]) -> dict[str, float]:
    """The lexicon's score of each level-1 topic for ``text`` (no line prior): the evidence
    the learned model combines with its own (``routing.learned``)."""
    return dict(_scores(text, bounds, [])[0])


def _scores(text: str, bounds: frozenset[int], extra: list[TermHit]) -> tuple[
        dict[str, float], dict[tuple[str, str], float], dict[Path3, float], dict[str, list[str]]]:
    """Scores per level-1, level-2 and level-3 topic, and the words that voted for each."""
    s1: dict[str, float] = defaultdict(float)
    s2: dict[tuple[str, str], float] = defaultdict(float)
    s3: dict[Path3, float] = defaultdict(float)
    words: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    title_end = _title_end(text)
    # (hit, factor): a word of the title counts TITLE_WEIGHT times. The scan runs left to
    # right, so a word said in the title and again below is counted once, as a title word.
    hits: list[tuple[TermHit, float]] = [
        (m.value, TITLE_WEIGHT if m.end <= title_end else 1.0)
        for m in lexicon().scan(text, bounds)
    ]
    for sides, hit in combinations():
        found = [next((a for a in side if a in text), None) for side in sides]
        if all(found):
            # Shown as the words actually found (拖欠…工资), counted once as the pair.
            in_title = all(a in text[:title_end] for a in found)  # type: ignore[operator]
            hits.append((TermHit("…".join(found), hit.votes),  # type: ignore[arg-type]
                         TITLE_WEIGHT if in_title else 1.0))
    hits += [(hit, 1.0) for hit in extra]
    unique: list[tuple[TermHit, float]] = []
    for hit, factor in hits:
        if hit.term in seen:
            continue  # a word said twice is one piece of evidence, not two
        seen.add(hit.term)
        unique.append((hit, factor))
    # Matter score of each level-1 topic: its non-setting words. Setting words count in full
    # only for topics whose matter is a contender (at least MATTER_SHARE of the best one).
    matter: dict[str, float] = defaultdict(float)
    for hit, factor in unique:
        if not hit.setting:
            for p, w in hit.votes:
                matter[p[0]] += w * factor
    best = max(matter.values(), default=0.0)
    contenders = ({t for t, v in matter.items() if v >= best * MATTER_SHARE}
                  if best >= MATTER_MIN else None)
    overriding = next((t for t in OVERRIDING if matter.get(t, 0.0) >= OVERRIDE_MIN), None)
    for hit, factor in unique:
        for (l1, l2, l3), weight in hit.votes:
            if weight <= 0:
                continue
            weight *= factor
            overridden = overriding is not None and l1 != overriding
            if overridden or (hit.setting and contenders is not None and l1 not in contenders):
                weight *= SETTING_WEIGHT
            s1[l1] += weight
            words[l1].append(hit.term)
            if l2 is not None:
                s2[(l1, l2)] += weight
                if l3 is not None:
                    s3[(l1, l2, l3)] += weight
    return s1, s2, s3, words


def _title_end(text: str) -> int:
    """Where the title ends: the end of a short first line followed by more text, else 0."""
    end = text.find("\n")
    if 0 < end <= TITLE_MAX_CHARS and text[end:].strip():
        return end
    return 0


def _best(scores: dict) -> str | None:
    if not scores:
        return None
    key, value = max(scores.items(), key=lambda kv: (kv[1], kv[0] is not None))
    return key if value > 0 else None


def _confidence(score: float, runner_up: float) -> float:
    """How likely the level-1 topic is right, from the winning and second scores.

    Evidence ``1 - exp(-score/1.5)`` (one decisive word of weight 3 gives 0.86, two give
    0.98) times a margin factor ``0.3 + 0.7 * score/(score + runner_up)`` (a tie: 0.65).
    Fitted on the labelled set and then made more cautious than the best fit (which would
    trust ties at 0.87): ``routing.evaluate``'s calibration table shows how it holds up.
    """
    evidence = 1.0 - math.exp(-score / 1.5)
    margin = score / (score + runner_up) if score + runner_up > 0 else 0.0
    return round(min(0.98, evidence * (0.3 + 0.7 * margin)), 3)


segment.register_words(lexicon().terms())  # combinations' parts need no registering
