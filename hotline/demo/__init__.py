"""The demo installation's believable past (`hotline seed-demo --history DAYS`, `hotline run
--demo --history DAYS`): cases made and moved through the real domain code, each step at its
back-dated moment.

- `history` — the walk of each case through the lifecycle, the history's transaction and its
  report (`seed_history`);
- `clock` — when citizens write and when staff act (arrivals, office hours, delays);
- `people` — the centre's staff and what they write, and the citizens' messages.

The demo's lines, categories and departments are `hotline.seed`.
"""

from .history import HISTORY_KEY, HistoryExists, HistoryReport, history_cases, seed_history

__all__ = ["HISTORY_KEY", "HistoryExists", "HistoryReport", "history_cases", "seed_history"]
