"""Charts drawn at the same time in one process (a threaded server answering the reports page's
five chart requests at once) each keep their Chinese as text in the CJK family: matplotlib's
settings are process-wide, and one chart finishing must not reset them under another."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hotline.reports import charts

from .test_chart_fonts import SUMMARY

CATEGORY_LABELS = ("情况反映", "困难诉求")


def test_charts_drawn_at_once_keep_their_chinese_as_text():
    def draw(_: int) -> str:
        return charts.render("categories", SUMMARY, "svg").decode()

    with ThreadPoolExecutor(max_workers=6) as pool:
        drawn = list(pool.map(draw, range(36)))
    for svg in drawn:
        assert "诉求类别分布" in svg  # the title is text, not glyph outlines
        assert all(label in svg for label in CATEGORY_LABELS)
        assert "Noto Sans CJK SC" in svg
