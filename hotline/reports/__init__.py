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

# Hourly: a bulletin is written within the hour after its period ends, and a worker that was
# down catches up when it is back (the job writes only what is missing).
BULLETIN_INTERVAL = 3600


def init_app(app: Flask) -> None:
    """Settings, and the scheduled bulletin job (the API module and the CLI command are found
    by the core)."""
    app.config.setdefault("BULLETIN_KINDS", ("week", "month", "quarter"))
    try:
        from workers.schedule import PERIODIC
    except ImportError:  # no workers in this installation: bulletins on demand only
        return
    from .jobs import JOB_PATH

    registered = {entry[0] if isinstance(entry, tuple) else entry.func for entry in PERIODIC}
    if JOB_PATH not in registered:  # create_app runs many times in one process (tests)
        PERIODIC.append((JOB_PATH, BULLETIN_INTERVAL, "reports"))
