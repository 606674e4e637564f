"""Names of Guizhou's administrative divisions for pages: the board's region filter, form and
case page, and the console's region picker.

The division table is the routing area's (`routing.places`); if that is not installed the pages
fall back to the province's prefecture-level divisions, which are all the board filters by.
"""

from __future__ import annotations

from functools import lru_cache

PROVINCE = "520000"
_PREFECTURES = {
    "520100": "贵阳市", "520200": "六盘水市", "520300": "遵义市", "520400": "安顺市",
    "520500": "毕节市", "520600": "铜仁市", "522300": "黔西南州", "522600": "黔东南州",
    "522700": "黔南州",
}


def _places():
    try:
        from routing import places
    except ImportError:
        return None
    return places


def region_name(code: str | None) -> str | None:
    """A short name for a division code (威宁县, 黔东南州), or None for no code."""
    if not code:
        return None
    places = _places()
    if places is not None:
        return places.display_name(code)
    if code[:6] == PROVINCE:
        return "贵州省"
    return _PREFECTURES.get(code[:4] + "00", code)


@lru_cache(maxsize=1)
def prefectures() -> list[tuple[str, str]]:
    """(code, name) of the province's prefecture-level divisions, for the region filter."""
    places = _places()
    if places is not None:
        found = sorted((d.code, places.display_name(d.code))
                       for d in places.divisions().values()
                       if d.level == "prefecture" and d.code[:2] == PROVINCE[:2])
        if found:
            return found
    return sorted(_PREFECTURES.items())


@lru_cache(maxsize=1)
def counties() -> dict[str, list[tuple[str, str]]]:
    """(code, name) of the counties of each prefecture, for the form's region choice."""
    places = _places()
    out: dict[str, list[tuple[str, str]]] = {code: [] for code, _ in prefectures()}
    if places is None:
        return out
    for d in places.divisions().values():
        if d.level == "county" and d.parent in out:
            out[d.parent].append((d.code, places.display_name(d.code)))
    for items in out.values():
        items.sort()
    return out

