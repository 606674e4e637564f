"""Notices to a department's contacts (承办单位通知): a case sent to the department, a reminder
(催办) and an escalation (督办) of its deadlines, a leadership instruction (批示) on it, and a
case taken back from it and sent elsewhere (改派: the new department is told as for a dispatch,
the old one that it need not go on).

Each notice is an outbox row written in the transaction of its cause — `after_action` runs
inside the dispatch or instruction (a handler of `ActionTaken` in `hotline.wiring`),
`after_sweep` inside the supervision sweep before it commits — so it exists exactly when its cause does and the relay
sends it once, by SMS (Twilio), WeChat (template message; a clerk's openid has no 48-hour
window) or e-mail. A dedupe key per contact and cause (`dept:<contact>:event:<id>`,
`dept:<contact>:mark:<id>`) keeps a repeated sweep or a retried request from telling anyone
twice. The rows are on the case's record with every other message (`GET /api/v1/outbox?case=`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, and_, case, cast, inspect, literal, select

from hotline import reference
from hotline.domain import lifecycle
from hotline.events import ActionTaken
from hotline.extensions import db
from hotline.models import Case, DepartmentContact, Line, OutboxMessage
from hotline.models.followup import SupervisionMark
from hotline.models.types import UTCDateTime
from hotline.outbox import department_name, enqueue

from .sweeps import HELD, NOTES, _insert

PURPOSE = "dept-notify"
INSTRUCTION_EXCERPT = 60


def _date(day: dt.date | None) -> str:
    return f"{day.month}月{day.day}日" if day else ""


def notice_text(case: Case, action: str, data: dict | None = None) -> str | None:
    """What the department is told when its case takes this step (None: nothing); `data` is
    the step's (an instruction's words, leader and feedback deadline)."""
    sign = f"【{case.line.name}】"
    if action == "dispatch":
        if case.kind == lifecycle.Kind.INFORM:
            return f"{sign}转阅件{case.number}已送贵单位参阅，请于{_date(case.accept_due_date)}前签收。"
        return (f"{sign}新工单{case.number}已转贵单位办理，请于{_date(case.accept_due_date)}前签收、"
                f"{_date(case.due_date)}前答复。")
    if action == "recall":
        return (f"{sign}工单{case.number}改派贵单位办理，请于{_date(case.accept_due_date)}前签收、"
                f"{_date(case.due_date)}前答复。")
    if action == "cohandle":  # told to a department added as co-handler (协办)
        due = next((c.due_date for c in case.cohandlers if c.due_date), None)
        lead = department_name(case)
        return (f"{sign}协办：工单{case.number}由{lead}主办，请贵单位协办，"
                f"于{_date(due)}前提交协办意见。")
    if action == "recalled":  # told to the department the case was taken from
        return f"{sign}工单{case.number}已由中心改派其他单位办理，贵单位无需继续办理。"
    if action == "instruct":
        data = data or {}
        text = " ".join((data.get("text") or "").split())
        if len(text) > INSTRUCTION_EXCERPT:
            text = text[:INSTRUCTION_EXCERPT - 1] + "…"
        leader = f"（{data['leader']}）" if data.get("leader") else ""
        due = data.get("feedback_due_date")
        by = f"于{_date(dt.date.fromisoformat(due))}前反馈办理情况" if due else "按时答复"
        return f"{sign}督办：工单{case.number}有领导批示{leader}，请按批示办理并{by}。批示：{text}"
    return None


def contacts_of(department: str | None) -> list[DepartmentContact]:
    if not department:
        return []
    return reference.active_contacts(department)


def after_action(taken: ActionTaken) -> None:
    """After a dispatch, a recall or an instruction, in its transaction: tell the department
    (and, for a recall, the department the case was taken from; for co-handlers added at
    dispatch or later, each co-handling department)."""
    case, event = taken.case, taken.step
    if event.action not in ("dispatch", "recall", "instruct", "cohandle"):
        return
    data = event.data or {}
    told = [] if event.action == "cohandle" else [(case.department_code, event.action)]
    if event.action == "recall":
        told.append((data.get("from_department"), "recalled"))
    # Co-handling departments (协办), added at dispatch or later.
    told += [(code, "cohandle") for code in data.get("cohandlers") or data.get("departments")
             or () if event.action in ("dispatch", "cohandle")]
    recorded = None
    for department, cause in told:
        contacts = contacts_of(department)
        text = notice_text(case, cause, event.data)
        if not contacts or text is None:
            continue
        if inspect(case).pending:
            # Logged and dispatched in one transaction: all or nothing, no key needed (and
            # no flush of the half-made case).
            for contact in contacts:
                enqueue(case, contact.channel, contact.address, text, PURPOSE, at=taken.at)
            continue
        if recorded is None:
            db.session.flush()  # the event just recorded gets its id: the dedupe key uses it
            recorded = case.events[-1]
        for contact in contacts:
            enqueue(case, contact.channel, contact.address, text, PURPOSE,
                    dedupe_key=f"dept:{contact.id}:event:{recorded.id}", at=taken.at)


def after_sweep(token: str, now: dt.datetime) -> None:
    """The sweep's reminders and escalations of cases a department holds, one notice per
    contact (one statement; the sweep commits it with its marks)."""
    m, c, p = SupervisionMark.__table__, Case.__table__.c, DepartmentContact.__table__
    sign = literal("【") + Line.__table__.c.name + literal("】工单") + c.number + literal(" ")
    text = sign + case(*[(m.c.kind == k, literal(head) + cast(m.c.deadline, String)
                                           + literal(tail))
                          for k, (head, tail) in NOTES.items()])
    dedupe = literal("dept:") + cast(p.c.id, String) + literal(":mark:") + cast(m.c.id, String)
    at = literal(now, UTCDateTime())
    rows = (select(m.c.case_id, p.c.channel, literal(PURPOSE), p.c.address, text,
                   literal("pending"), literal(0), literal(False), at, at, at, dedupe)
            .select_from(m.join(Case.__table__, c.id == m.c.case_id)
                         .join(Line.__table__, Line.__table__.c.id == c.line_id)
                         .join(p, and_(p.c.department_code == m.c.department_code,
                                       p.c.active)))
            .where(m.c.sweep == token, c.status.in_(HELD)))
    db.session.execute(_insert(OutboxMessage.__table__).from_select(
        ["case_id", "channel", "purpose", "recipient", "text", "status", "attempts",
         "maybe_sent", "next_attempt_at", "created_at", "updated_at", "dedupe_key"], rows))

