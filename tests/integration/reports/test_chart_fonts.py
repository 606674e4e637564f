"""Chinese in PNG charts on a machine without a CJK font of its own, or whose matplotlib font
cache was built before the font was installed.

Each case runs in a fresh interpreter (matplotlib's font list is process-wide state) that
first makes matplotlib forget every CJK font it had cached — as on a machine where none was
installed — then draws a chart with Chinese labels and reports what it drew with and every
"Glyph … missing" warning.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from hotline.reports import charts

SUMMARY = {
    "period": {"title": "2026年10月"}, "total": 3,
    "by_category": [
        {"name": "情况反映", "line": "zhitongche", "line_name": "服务民营企业省长直通车",
         "count": 2, "percent": 66.67},
        {"name": "困难诉求", "line": "fupin", "line_name": "扶贫专线", "count": 1,
         "percent": 33.33},
    ],
}

DRAW = textwrap.dedent("""
    import json, sys, warnings
    from matplotlib import font_manager
    manager = font_manager.fontManager
    manager.ttflist = [f for f in manager.ttflist
                       if "CJK" not in f.name and f.name not in {names!r}]
    manager._findfont_cached.cache_clear()
    if {hide_package!r}:
        sys.modules["noto_cjk_sans_otc"] = None  # as if the package were not installed
    from hotline.reports import charts
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.render("categories", {summary!r}, "png")
    print(json.dumps({{"font": charts.cjk_font(), "png": png[:8].hex(),
                      "missing": [str(w.message) for w in caught if "missing" in str(w.message)]}}))
""")


def draw_without_cached_cjk_fonts(hide_package: bool = False) -> dict:
    code = DRAW.format(names=set(charts.CJK_FONTS), hide_package=hide_package, summary=SUMMARY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_png_chart_draws_chinese_with_the_font_that_comes_with_the_install():
    result = draw_without_cached_cjk_fonts()
    assert result["png"] == b"\x89PNG\r\n\x1a\n".hex()
    assert result["font"] == "Noto Sans CJK SC"
    assert result["missing"] == []


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found():
    from matplotlib import font_manager

    system = [p for p in font_manager.findSystemFonts() if charts.CJK_FILE_HINTS.search(p)
              and charts.packaged_cjk_font() != p]
    if not system:
        pytest.skip("no CJK font installed on this system (fonts-noto-cjk)")
    result = draw_without_cached_cjk_fonts(hide_package=True)
    assert result["font"] in charts.CJK_FONTS
    assert result["missing"] == []
