"""Reports (办理情况分析): the figures leaders read, the periodic bulletins, charts and the case
ledger export.

- `summary` — the report of a period: volume, handling, outcome rates, departments ranked
  (the definitions of every rate are in its docstring);
- `hot` — rising topics and terms, clusters of similar cases (并单 candidates);
- `phone` — calls answered within 15 s, abandoned, call-backs;
- `charts` — volume over time, categories, department ranking, as SVG or PNG;
- `bulletin` — the weekly, monthly and quarterly bulletin (HTML with charts, XLSX), kept in the
  `bulletins` table; `jobs.write_due_bulletins` is the scheduled job;
- `ledger` — the case ledger (台账) as streamed CSV and XLSX.

The staff API of all this is `hotline/api/stats.py`; the command is `hotline report`.
"""

from __future__ import annotations

from flask import Flask

from . import models  # noqa: F401  (registers the bulletins table)


def init_app(app: Flask) -> None:
    """Settings (the API module and the CLI command are found by the core; the hourly
    bulletin job is declared in `workers.schedule.periodic_jobs`)."""
    app.config.setdefault("BULLETIN_KINDS", ("week", "month", "quarter"))
