"""A line's opening hours (Line.hours, "HH:MM-HH:MM" in the province's time)."""

from __future__ import annotations

import datetime as dt
import logging
import re

logger = logging.getLogger(__name__)

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def is_all_day(hours: str | None) -> bool:
    """"00:00-24:00" (扶贫专线): open round the clock, rest days included."""
    parsed = _parse(hours)
    return parsed is None or parsed[0] == parsed[1] or parsed == (0, 24 * 60)


def is_open(hours: str | None, local_now: dt.datetime, *, workday: bool = True,
            workdays_only: bool = True) -> bool:
    """Whether a line with these hours takes calls at `local_now` (a local, aware time).

    A line with office hours is closed on rest days and holidays when `workdays_only`; hours
    that end before they start run over midnight ("20:00-08:00").
    """
    if is_all_day(hours):
        return True
    if workdays_only and not workday:
        return False
    start, end = _parse(hours)  # type: ignore[misc]
    minute = local_now.hour * 60 + local_now.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def describe(hours: str | None) -> str:
    """How the greeting says the hours: "每日9:00至17:00" or "工作日9:00至17:00"."""
    parsed = _parse(hours)
    if parsed is None:
        return ""
    start, end = parsed
    return f"{start // 60}:{start % 60:02d}至{end // 60}:{end % 60:02d}"


def _parse(hours: str | None) -> tuple[int, int] | None:
    match = _HOURS.match(hours or "")
    if not match:
        if hours:
            # Reaching a person matters more than a malformed setting: treat it as always open.
            logger.warning("line hours %r are not HH:MM-HH:MM; treating the line as open", hours)
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        logger.warning("line hours %r are out of range; treating the line as open", hours)
        return None
    return h1 * 60 + m1, h2 * 60 + m2
