"""Phone figures of a period (话务): calls offered, answered, answered within 15 seconds
(GB/T 33358: calls are answered within 15 s), abandoned, messages left, and the call-backs
(回拨) of missed calls.

Calls are the phone channel's `calls` table (`hotline.models.calls.Call`, one row per call
from ring to end); when that table is not there the call figures are zero. Only inbound calls
count; a line filter applies, the other case filters do not (a call is not yet a case).

- answered within 15 s = answered calls whose time from the ring (`started_at`) to the
  operator picking up (`answered_at`) is at most 15 seconds / calls offered;
- abandon rate = calls the caller hung up before anyone answered / calls offered;
- call-backs = missed-call tasks (回拨) created in the period, and how many are done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..models import CallbackTask, Line
from . import figures
from .scope import Scope
from .sql import seconds_between

ANSWER_WITHIN_SECONDS = 15

try:
    from ..models.calls import Call
except ImportError:  # the phone channel's table is not part of this installation
    Call = None  # type: ignore[assignment,misc]


def _flag(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def phone_figures(scope: Scope) -> dict[str, Any]:
    period = scope.period
    calls = {"offered": 0, "answered": 0, "answered_within_15s": 0, "abandoned": 0,
             "messages": 0, "no_message": 0, "after_hours": 0, "average_wait_seconds": None}
    if Call is not None:
        wait = seconds_between(Call.started_at, Call.answered_at)
        answered = Call.outcome == "answered"
        stmt = select(
            func.count().label("offered"),
            _flag(answered).label("answered"),
            _flag(and_(answered, Call.answered_at.is_not(None),
                       wait <= ANSWER_WITHIN_SECONDS)).label("within"),
            _flag(Call.outcome == "abandoned").label("abandoned"),
            _flag(Call.outcome == "message").label("messages"),
            _flag(Call.outcome == "no_message").label("no_message"),
            _flag(Call.after_hours.is_(True)).label("after_hours"),
            func.avg(case((answered, wait))).label("wait"),
        ).where(Call.direction == "inbound", Call.started_at >= period.start_at,
                Call.started_at < period.end_before)
        if scope.line:
            stmt = stmt.join(Line, Line.id == Call.line_id).where(Line.code == scope.line)
        row = db.session.execute(stmt).one()
        calls = {"offered": row.offered or 0, "answered": int(row.answered or 0),
                 "answered_within_15s": int(row.within or 0),
                 "abandoned": int(row.abandoned or 0), "messages": int(row.messages or 0),
                 "no_message": int(row.no_message or 0),
                 "after_hours": int(row.after_hours or 0),
                 "average_wait_seconds": (round(float(row.wait), 1)
                                          if row.wait is not None else None)}
    tasks = (select(func.count().label("created"),
                    _flag(CallbackTask.status == "done").label("done"))
             .where(CallbackTask.kind == "missed_call",
                    CallbackTask.created_at >= period.start_at,
                    CallbackTask.created_at < period.end_before))
    if scope.line:
        tasks = tasks.where(CallbackTask.line_code == scope.line)
    cb = db.session.execute(tasks).one()
    offered = calls["offered"]
    return {
        "available": Call is not None,
        **calls,
        "answer_rate": figures.rate(calls["answered"], offered),
        "answered_within_15s_rate": figures.rate(calls["answered_within_15s"], offered),
        "abandon_rate": figures.rate(calls["abandoned"], offered),
        "callbacks": {"created": cb.created or 0, "done": int(cb.done or 0),
                      "open": (cb.created or 0) - int(cb.done or 0)},
    }
