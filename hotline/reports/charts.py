"""Charts of a report as SVG or PNG: volume over time, the category breakdown, the department
ranking, channels and topics.

Drawn with matplotlib's Agg backend through its object API (no pyplot, no global figure
state), from a summary already computed (`summary.build_summary`). Chinese labels need a CJK
font, and one comes with the install: the `noto-cjk-sans-otc` dependency ships Noto Sans CJK
(SIL Open Font License), which `cjk_font` adds to matplotlib's font list, so a machine with no
font package of its own draws the same Chinese as one with Debian's fonts-noto-cjk. Should
that package be missing, a CJK font installed on the system is used — also one installed after
matplotlib built its font cache (the folders are looked at again). In SVG, text stays text
(`svg.fonttype: none`) with that family first and common Chinese system fonts after it, so a
browser renders it with whatever it has; in PNG the glyphs come from the font found here.
Without any CJK font the charts are still drawn, and one warning says that Chinese will show
as boxes in PNGs.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
             "SimHei", "Noto Sans CJK JP")
BROWSER_FALLBACK = ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
                    "WenQuanYi Micro Hei", "sans-serif")
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#7a5195", "#4f9fbf", "#a58d2d",
           "#6c757d")
MAX_BARS = 20


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs that matplotlib can draw with, or None.

    Looked for in this order: the font the `noto-cjk-sans-otc` package ships; a CJK font in
    matplotlib's font list; one installed after that list was cached (the system's font
    folders scanned again). Once per process: adding fonts is matplotlib-global state.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    packaged = packaged_cjk_font()
    if packaged is not None and not _known(manager, packaged):
        manager.addfont(packaged)
    found = _first_cjk(manager)
    if found is None:
        known = {f.fname for f in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known and CJK_FILE_HINTS.search(path):
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError):  # unreadable or not a font after all
                    continue
        found = _first_cjk(manager)
    if found is None:
        log.warning("no CJK font found (the noto-cjk-sans-otc package is missing, and so is "
                    "fonts-noto-cjk): Chinese in PNG charts will show as boxes")
    return found


#: File names of CJK fonts, for the look at fonts installed after matplotlib's cache was built.
CJK_FILE_HINTS = re.compile(r"cjk|sourcehan|source-han|wqy|wenquan|simhei|msyh|pingfang|"
                            r"notosanssc|droidsansfallback", re.IGNORECASE)


def packaged_cjk_font() -> str | None:
    """The path of the Noto Sans CJK collection that the `noto-cjk-sans-otc` package ships."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = str(noto_cjk_sans_otc.FONT_PATH)
    return path if os.path.exists(path) else None


def _known(manager: Any, path: str) -> bool:
    real = os.path.realpath(path)
    return any(os.path.realpath(f.fname) == real for f in manager.ttflist)


def _first_cjk(manager: Any) -> str | None:
    installed = {f.name for f in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@lru_cache(maxsize=4)
def _has_bold(family: str) -> bool:
    from matplotlib import font_manager

    return any(f.name == family and f.weight in (600, 700, 800, "bold")
               for f in font_manager.fontManager.ttflist)


def _rc() -> dict[str, Any]:
    font = cjk_font()
    families = [font] if font else []
    families += [f for f in BROWSER_FALLBACK if f not in families]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": families + ["DejaVu Sans"],
        "axes.unicode_minus": False,  # the ASCII minus: CJK fonts often lack U+2212
        "svg.fonttype": "none",
        "svg.hashsalt": "hotline",  # the same data draws the same SVG, byte for byte
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        # The packaged font has one weight: matplotlib would warn and draw it anyway.
        "axes.titleweight": "bold" if font is None or _has_bold(font) else "normal",
        "axes.titlesize": 12,
    }


_DRAWING = threading.Lock()


def render(name: str, summary: dict[str, Any], fmt: str = "svg") -> bytes:
    """Draw chart `name` (see `CHARTS`) of a summary as SVG or PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    draw = CHARTS[name][1]
    # rc_context changes matplotlib's process-wide settings and puts them back on leaving: two
    # charts drawn at once by a threaded server would reset each other's (text in DejaVu glyph
    # outlines, Chinese as boxes), so one chart is drawn at a time.
    with _DRAWING, rc_context(_rc()):
        fig = Figure(figsize=(8, 4.2), dpi=110, layout="constrained")
        draw(fig, summary)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": "hotline"}
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _subtitle(summary: dict[str, Any]) -> str:
    return f"{summary['period']['title']}（共受理 {summary['total']} 件）"


def _no_data(ax: Any) -> None:
    ax.text(0.5, 0.5, "本期无数据", ha="center", va="center", transform=ax.transAxes,
            color="#888888", fontsize=14)
    ax.set_xticks([])
    ax.set_yticks([])


def _volume(fig: Any, summary: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    days = summary["by_day"]
    if len(days) <= 62:
        points = [(d["date"][5:], d["count"]) for d in days]
        unit = "日"
    elif len(days) <= 400:
        points = [(w["period"].split("-")[1], w["count"]) for w in summary["by_week"]]
        unit = "周"
    else:
        points = [(m["period"], m["count"]) for m in summary["by_month"]]
        unit = "月"
    ax.set_title(f"受理量趋势（按{unit}）\n{_subtitle(summary)}", loc="left")
    if not summary["total"]:
        _no_data(ax)
        return
    labels = [p[0] for p in points]
    values = [p[1] for p in points]
    ax.bar(range(len(values)), values, color=PALETTE[0], width=0.75)
    step = max(1, len(labels) // 15)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    ax.set_ylabel("件", rotation=0, labelpad=12)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)


def _horizontal(fig: Any, title: str, rows: list[tuple[str, float, str]], color: str,
                xlabel: str, xmax: float | None = None) -> None:
    ax = fig.add_subplot()
    ax.set_title(title, loc="left")
    if not rows:
        _no_data(ax)
        return
    rows = rows[:MAX_BARS]
    # Bars of the same thickness however many there are: the figure grows with them.
    fig.set_figheight(max(2.4, 0.42 * len(rows) + 1.5))
    labels = [r[0] for r in rows][::-1]
    values = [r[1] for r in rows][::-1]
    notes = [r[2] for r in rows][::-1]
    bars = ax.barh(range(len(values)), values, color=color, height=0.6)
    ax.set_yticks(range(len(labels)), labels)
    top = xmax if xmax is not None else max(max(values), 1) * 1.35
    low = min(0.0, min(values) * 1.35)
    ax.set_xlim(low, top)
    for bar, note in zip(bars, notes, strict=True):
        x = max(bar.get_width(), 0)
        ax.text(x + (top - low) * 0.01, bar.get_y() + bar.get_height() / 2, note,
                va="center", fontsize=9)
    ax.set_xlabel(xlabel)
    if xmax is not None and xmax > 100:  # a rate: the axis reads 0-100 %, notes beyond it
        ax.set_xticks(range(0, 101, 20))
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", alpha=0.3)


def short_line_name(name: str) -> str:
    """A line's name short enough for a chart label: 服务民营企业省长直通车 → 省长直通车,
    省长信箱 · 群众直通交流台 → 省长信箱."""
    name = name.split("·")[0].strip()
    return name.removeprefix("服务民营企业")


def _categories(fig: Any, summary: dict[str, Any]) -> None:
    several_lines = len({c["line"] for c in summary["by_category"] if c["line"]}) > 1
    rows = []
    for c in summary["by_category"]:
        label = c["name"]
        if several_lines and c["line"]:
            label = f"{c['name']}（{short_line_name(c.get('line_name') or c['line'])}）"
        rows.append((label, c["count"], f"{c['count']} 件  {c['percent']:.2f}%"))
    _horizontal(fig, f"诉求类别分布\n{_subtitle(summary)}", rows, PALETTE[0], "件")


def _topics(fig: Any, summary: dict[str, Any]) -> None:
    rows = [(t["name"], t["count"], f"{t['count']} 件  {t['percent']:.2f}%")
            for t in summary["by_topic"]]
    _horizontal(fig, f"问题分类（一级）\n{_subtitle(summary)}", rows, PALETTE[2], "件")


def _channels(fig: Any, summary: dict[str, Any]) -> None:
    ax = fig.add_subplot()
    ax.set_title(f"受理渠道\n{_subtitle(summary)}", loc="left")
    rows = summary["by_channel"]
    if not rows:
        _no_data(ax)
        return
    ax.pie([r["count"] for r in rows], labels=[f"{r['name']} {r['percent']:.2f}%" for r in rows],
           colors=PALETTE[: len(rows)], startangle=90, counterclock=False,
           wedgeprops={"width": 0.45, "edgecolor": "white"})
    ax.set_aspect("equal")


def _departments(fig: Any, summary: dict[str, Any]) -> None:
    rows = []
    for d in summary["departments"]:
        if d["replied"] == 0 and d["assigned"] == 0:
            continue
        rate = d["on_time_rate"]
        note = f"{'—' if rate is None else f'{rate:.1f}%'}  积分 {d['points']}  超期 {d['overdue_now']}"
        rows.append((f"{d['rank']}. {d['name']}", rate or 0.0, note))
    _horizontal(fig, f"承办单位排名（按期答复率）\n{summary['period']['title']}", rows, PALETTE[1],
                "按期答复率 %", xmax=135.0)


CHARTS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], None]]] = {
    "volume": ("受理量趋势", _volume),
    "categories": ("诉求类别分布", _categories),
    "departments": ("承办单位排名", _departments),
    "channels": ("受理渠道", _channels),
    "topics": ("问题分类", _topics),
}
