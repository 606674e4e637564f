"""A bulletin's workbook carries native charts: Excel or WPS draws them, Chinese included, with
the fonts of whoever opens it."""

from __future__ import annotations

import io
import re
import zipfile

from .conftest import local

OCT12 = local(2026, 10, 12, 9, 30)


def test_bulletin_workbook_has_native_charts_of_categories_days_and_departments(api, tokens,
                                                                                build):
    build.closed(OCT12, local(2026, 10, 13, 9, 0))
    build.replied(OCT12, local(2026, 10, 30, 9, 0), department="gov-520100")
    meta = api.post("/bulletins", tokens.supervisor, {"period": "2026-10"}).get_json()
    data = api.get(meta["xlsx_url"], tokens.supervisor).data
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        charts = {name: book.read(name).decode() for name in book.namelist()
                  if re.fullmatch(r"xl/charts/chart\d+\.xml", name)}
    assert len(charts) == 3
    text = "\n".join(charts.values())
    for title in ("诉求类别分布（件）", "受理量趋势（件）", "承办单位按期答复率（%）"):
        assert title in text
    # each chart reads its own table: labels from row 4 on, the header as the series' name
    assert "'诉求类别'!$C$4" in text and "'诉求类别'!$D$4" in text and "'诉求类别'!D3" in text
    assert "'每日受理'!$A$4:$A$34" in text  # October's 31 days
    assert "'单位排名'!$C$4:$C$5" in text and "'单位排名'!$K$4:$K$5" in text  # two departments


def test_an_empty_table_gets_no_chart(api, tokens):
    meta = api.post("/bulletins", tokens.supervisor, {"period": "2026-10"}).get_json()
    data = api.get(meta["xlsx_url"], tokens.supervisor).data
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        charts = [n for n in book.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 1  # the days of October are there, with 0 each
