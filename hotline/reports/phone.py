"""Phone figures (话务) — the one definition, used by `GET /api/v1/calls/figures`, the stats
API and the bulletins: calls offered, answered, answered within 15 seconds, abandoned, messages
left, and the call-backs (回拨) of missed calls.

Calls are the phone channel's `calls` table (one row per inbound call, from ring to end). A
line filter applies; the other case filters do not (a call is not yet a case).

- ``offered``: calls that reached a line; ``to_operators``: those inside the line's hours (the
  others were asked to leave a message at once) — the calls that asked for a person, over
  which the rates are taken, as GB/T 33358 counts its 15-second answer rate;
- ``answered_within_15s``: answered after waiting in the queue (after the greeting) at most
  15 s (``Call.queue_seconds``);
- ``abandoned``: hung up before an operator answered; ``messages``: recorded messages (each a
  case); ``no_message``: sent to the recorder and hung up without a word;
- ``missed_call_callbacks``: missed-call tasks made in the period — ``total``, ``done`` (an
  operator called back), ``open``, ``cancelled`` (the caller got through again).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as when

from ..domain.deadlines import PROVINCE_TZ
from ..extensions import db
from ..models import Call, CallbackTask, Line
from ..models.calls import Outcome
from . import figures
from .scope import Scope

#: GB/T 33358: a caller asking for a person is answered within 15 seconds.
ANSWER_TARGET_SECONDS = 15


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PROVINCE_TZ)


def call_figures(date_from: dt.date, date_to: dt.date, line: str | None = None) -> dict[str, Any]:
    """The phone figures of a period (local dates, both included), in total and per line.

    - ``offered``: calls that reached a line; ``to_operators``: those inside the line's hours
      (the others were asked to leave a message at once);
    - ``answered``, ``answered_within_15s`` (waiting in the queue, after the greeting, at most
      15 s), ``abandoned`` (hung up before an operator answered), ``messages`` (recorded
      messages, each a case), ``no_message``;
    - rates over ``to_operators``: ``answer_rate``, ``within_15s_rate``, ``abandon_rate``
      (percent, two decimals; None when there were no calls);
    - ``missed_call_callbacks``: missed-call tasks made in the period — ``total``, ``done`` (an
      operator called back), ``open``, ``cancelled`` (the caller got through again).
    """
    start, end = _day_start(date_from), _day_start(date_to + dt.timedelta(days=1))
    answered = Call.outcome == Outcome.ANSWERED
    within = and_(answered, Call.queue_seconds <= ANSWER_TARGET_SECONDS)

    def count(condition: Any) -> Any:
        return func.sum(when((condition, 1), else_=0))

    query = (select(Line.code, Line.name, func.count(Call.id), count(Call.after_hours.is_(True)),
                    count(answered), count(within), count(Call.outcome == Outcome.ABANDONED),
                    count(Call.outcome == Outcome.MESSAGE),
                    count(Call.outcome == Outcome.NO_MESSAGE),
                    func.avg(when((answered, Call.queue_seconds))),
                    func.max(when((answered, Call.queue_seconds))),
                    func.avg(when((answered, Call.duration_seconds))))
             .join(Line, Call.line_id == Line.id)
             .where(Call.direction == "inbound", Call.started_at >= start,
                    Call.started_at < end)
             .group_by(Line.code, Line.name).order_by(Line.code))
    tasks = (select(CallbackTask.line_code, CallbackTask.status, func.count(CallbackTask.id))
             .where(CallbackTask.kind == "missed_call", CallbackTask.created_at >= start,
                    CallbackTask.created_at < end)
             .group_by(CallbackTask.line_code, CallbackTask.status))
    if line:
        query = query.where(Line.code == line)
        tasks = tasks.where(CallbackTask.line_code == line)
    per_task: dict[str, dict[str, int]] = {}
    for code, status, n in db.session.execute(tasks):
        per_task.setdefault(code or "", {})[status] = n
    by_line = []
    for row in db.session.execute(query):
        figures = _figures(*row[2:], per_task.pop(row[0], {}))
        by_line.append({"line": row[0], "name": row[1], **figures})
    for code, statuses in per_task.items():  # call-backs of a line with no calls this period
        by_line.append({"line": code, "name": None, **_figures(0, 0, 0, 0, 0, 0, 0, None, None,
                                                                 None, statuses)})
    total = _figures(*(sum(f[k] for f in by_line) for k in (
        "offered", "after_hours", "answered", "answered_within_15s", "abandoned", "messages",
        "no_message")), None, max((f["longest_wait_seconds"] or 0 for f in by_line), default=None),
        None, {s: sum(f["missed_call_callbacks"][s] for f in by_line)
               for s in ("done", "open", "cancelled")})
    weighted = [(f["avg_wait_seconds"], f["answered"]) for f in by_line if f["avg_wait_seconds"]
                is not None]
    if weighted and sum(n for _, n in weighted):
        total["avg_wait_seconds"] = round(sum(a * n for a, n in weighted)
                                          / sum(n for _, n in weighted), 1)
    talk = [(f["avg_duration_seconds"], f["answered"]) for f in by_line
            if f["avg_duration_seconds"] is not None]
    if talk and sum(n for _, n in talk):
        total["avg_duration_seconds"] = round(sum(a * n for a, n in talk)
                                              / sum(n for _, n in talk), 1)
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "line": line,
            "answer_target_seconds": ANSWER_TARGET_SECONDS, **total, "by_line": by_line}


def _figures(offered: int, after_hours: int, answered: int, within: int, abandoned: int,
             messages: int, no_message: int, avg_wait: float | None, longest: int | None,
             avg_duration: float | None, tasks: dict[str, int]) -> dict[str, Any]:
    offered, after_hours, answered, within, abandoned, messages, no_message = (
        int(v or 0) for v in (offered, after_hours, answered, within, abandoned, messages,
                              no_message))
    to_operators = offered - after_hours

    def rate(n: int) -> float | None:
        return round(100.0 * n / to_operators, 2) if to_operators else None

    done, open_, cancelled = (int(tasks.get(s, 0)) for s in ("done", "open", "cancelled"))
    return {
        "offered": offered, "after_hours": after_hours, "to_operators": to_operators,
        "answered": answered, "answered_within_15s": within, "abandoned": abandoned,
        "messages": messages, "no_message": no_message,
        "answer_rate": rate(answered), "within_15s_rate": rate(within),
        "abandon_rate": rate(abandoned),
        "avg_wait_seconds": round(float(avg_wait), 1) if avg_wait is not None else None,
        "longest_wait_seconds": int(longest) if longest is not None else None,
        "avg_duration_seconds": round(float(avg_duration), 1) if avg_duration is not None
        else None,
        "missed_call_callbacks": {"total": done + open_ + cancelled, "done": done,
                                  "open": open_, "cancelled": cancelled},
    }




def phone_figures(scope: Scope) -> dict[str, Any]:
    """The phone figures of a report's period, in the reports' shape (rates with the counts
    they come from)."""
    period = scope.period
    f = call_figures(period.start, period.end, scope.line)
    base = f["to_operators"]
    tasks = f["missed_call_callbacks"]
    return {
        "available": True,
        **{k: f[k] for k in ("offered", "to_operators", "answered", "answered_within_15s",
                             "abandoned", "messages", "no_message", "after_hours",
                             "longest_wait_seconds")},
        "average_wait_seconds": f["avg_wait_seconds"],
        "answer_rate": figures.rate(f["answered"], base),
        "answered_within_15s_rate": figures.rate(f["answered_within_15s"], base),
        "abandon_rate": figures.rate(f["abandoned"], base),
        "callbacks": {"created": tasks["total"], "done": tasks["done"],
                      "open": tasks["open"], "cancelled": tasks["cancelled"]},
    }
