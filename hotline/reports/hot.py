"""Hot issues (热点): topics and terms rising fastest against the previous period, and clusters
of similar cases that may be one matter (并单 candidates).

- Topics: cases per level-2 topic (level 1 where routing gave no level 2) in the period and
  in the previous one of the same length; ranked by the increase in cases.
- Terms: words of the case texts (segmented as routing segments them), counted once per case,
  in the latest `TERM_SAMPLE` cases of each period; ranked by how far the period's count goes
  beyond what the previous period's share would predict. Words every case uses (我们, 公司,
  反映) are left out.
- Clusters: cases of the period with the same topic and the same county (or city), whose
  texts share most of their character pairs (Jaccard similarity of character bigrams at least
  `CLUSTER_SIMILARITY`), joined transitively. Cases routing already linked as duplicates of the
  same caller are shown too; `callers` says how many different people wrote.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from ..domain.deadlines import PROVINCE_TZ
from ..domain.stop_words import REPORT_STOP_WORDS
from ..extensions import db
from ..models import Case
from . import figures
from .scope import Scope, report_text

TERM_SAMPLE = 2000
CLUSTER_SAMPLE = 2000
CLUSTER_GROUP_CAP = 300  # pairwise comparison inside one topic+place group
CLUSTER_SIMILARITY = 0.35
MIN_TERM_CASES = 3
TOP = 10
TERMS_CACHE = 50_000  # cases whose terms a worker keeps: the samples of many scopes

_WORDLIKE = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]+$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def hot_issues(scope: Scope, report: Any = None) -> dict[str, Any]:
    """`report`: the summary's report of `scope`, when it has one (its topic counts)."""
    from .summary import report_for

    previous = scope.with_period(scope.period.previous())
    now = (report or report_for(scope)).topic_counts()
    before = report_for(previous).topic_counts()
    return {
        "previous_period": {"label": previous.period.label,
                            "from": previous.period.start.isoformat(),
                            "to": previous.period.end.isoformat()},
        "topics": rising_topics(now, before),
        "terms": rising_terms(scope, previous),
        "clusters": clusters(scope),
    }


def rising_topics(now: Counter[str], before: Counter[str], top: int = TOP
                  ) -> list[dict[str, Any]]:
    """Topics ranked by the increase of their cases over the previous period."""
    rows = [{"topic": topic, "count": n, "previous": before.get(topic, 0),
             "increase": n - before.get(topic, 0),
             "change": figures.change(n, before.get(topic, 0))}
            for topic, n in now.items()]
    rows = [r for r in rows if r["increase"] > 0]
    rows.sort(key=lambda r: (-r["increase"], -r["count"], r["topic"]))
    return rows[:top]


def _latest_texts(scope: Scope, limit: int) -> list[tuple[int, str]]:
    stmt = (select(Case.id, Case.content).where(*scope.conditions())
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit))
    return [(row.id, row.content) for row in db.session.execute(stmt)]


def _segmenter():
    try:  # the routing area's tokenizer knows place names and the hotline's own words
        from routing.segment import cut, normalize

        return lambda text: cut(normalize(text))
    except ImportError:  # pragma: no cover - routing is part of the same distribution
        import jieba

        return lambda text: jieba.lcut(text)


def terms_of(text: str, cut: Any = None) -> set[str]:
    """The words of a text worth counting (two characters or more, not a stop word)."""
    cut = cut or _segmenter()
    # 某村, 某工地: the writer's placeholder, not a subject.
    return {w for w in cut(text) if len(w) >= 2 and w not in REPORT_STOP_WORDS and _WORDLIKE.match(w)
            and _CJK.search(w) and not w.startswith("某")}


@functools.lru_cache(maxsize=TERMS_CACHE)
def _case_terms(case_id: int, text: str) -> frozenset[str]:
    """A case's terms, kept by the worker: a summary asked again (supervisors open it many
    times a day) segments only the cases it has not seen. Keyed by the text too, so a
    corrected text is segmented again."""
    return frozenset(terms_of(text))


def _document_frequency(texts: Iterable[tuple[int, str]]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    n = 0
    for case_id, text in texts:
        df.update(_case_terms(case_id, text))
        n += 1
    return df, n


def rising_terms(scope: Scope, previous: Scope, top: int = 15) -> list[dict[str, Any]]:
    now_df, now_n = _document_frequency(_latest_texts(scope, TERM_SAMPLE))
    before_df, before_n = _document_frequency(_latest_texts(previous, TERM_SAMPLE))
    rows = []
    for term, n in now_df.items():
        if n < MIN_TERM_CASES:
            continue
        prev = before_df.get(term, 0)
        # What the previous period's share of cases mentioning the term predicts for this
        # period's sample (half a case added, so an unseen term is not infinitely new); the
        # excess is what is new. With no previous period at all, every term is new.
        expected = (prev + 0.5) / (before_n + 1) * now_n if before_n else 0.0
        excess = n - expected
        if excess <= 0:
            continue
        rows.append({"term": term, "cases": n, "previous": prev,
                     "share": figures.percent(n, now_n),
                     "previous_share": figures.percent(prev, before_n),
                     "score": round(excess, 2)})
    rows.sort(key=lambda r: (-r["score"], -r["cases"], r["term"]))
    return rows[:top]


def _bigrams(text: str) -> frozenset[str]:
    chars = "".join(_CJK.findall(text))
    return frozenset(chars[i:i + 2] for i in range(len(chars) - 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _components(n: int, linked: Callable[[int, int], bool]) -> list[list[int]]:
    """Connected components of n items under `linked` (union-find), each in item order."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if root(i) != root(j) and linked(i, j):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[root(i)].append(i)
    return list(groups.values())


def clusters(scope: Scope, top: int = TOP) -> list[dict[str, Any]]:
    """Groups of similar cases of the period (并单 candidates), largest first."""
    stmt = (select(Case.id, Case.number, Case.content, Case.topic1, Case.topic2, Case.region,
                   Case.citizen_phone, Case.citizen_openid, Case.citizen_name, Case.status,
                   Case.received_at)
            .where(*scope.conditions())
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(CLUSTER_SAMPLE))
    groups: dict[tuple[str | None, str | None, str], list[Any]] = defaultdict(list)
    for row in db.session.execute(stmt):
        groups[(row.topic1, row.topic2, (row.region or "")[:6])].append(row)
    found = []
    for (topic1, topic2, region), rows in groups.items():
        for group in _similar_groups(rows[:CLUSTER_GROUP_CAP]):
            group.sort(key=lambda r: (r.received_at, r.id))
            callers = {r.citizen_phone or r.citizen_openid or r.citizen_name or f"#{r.id}"
                       for r in group}
            found.append({
                "size": len(group),
                "callers": len(callers),
                "topic": "/".join(t for t in (topic1, topic2) if t) or None,
                "region": region or None,
                "numbers": [r.number for r in group][:20],
                "open": sum(1 for r in group if r.status != "closed"),
                "first_received_at": _local_iso(group[0].received_at),
                "last_received_at": _local_iso(group[-1].received_at),
                "sample": group[0],
            })
    found.sort(key=lambda c: (-c["size"], -c["callers"], c["numbers"][0]))
    for cluster in found[:top]:  # masked as for publication: a report is read widely
        first = cluster["sample"]
        cluster["sample"] = report_text(first.content, [first.citizen_name], limit=120)
    return found[:top]


def _similar_groups(rows: list[Any]) -> list[list[Any]]:
    """The groups of two or more rows whose texts are alike."""
    if len(rows) < 2:
        return []
    grams = [_bigrams(r.content) for r in rows]

    def alike(i: int, j: int) -> bool:
        return _jaccard(grams[i], grams[j]) >= CLUSTER_SIMILARITY

    return [[rows[i] for i in members] for members in _components(len(rows), alike)
            if len(members) >= 2]


def _local_iso(instant: Any) -> str:
    return instant.astimezone(PROVINCE_TZ).isoformat()
