"""The case lifecycle (docs/lifecycle.md): who may do what, from which status, and what it changes.

`ACTIONS` is the one table of the rules. `perform` checks an action against the case's status,
the actor's role and department, applies it to any object with the case's attributes (the ORM
model in production, a plain object in unit tests) and returns the timeline event to record.

改派 (`recall`) keeps the case's deadlines. The clock is the citizen's: it runs from the day the
centre received the case, as it does after a 退单 and a new dispatch, because the centre's
misroute is not the citizen's delay and the date the citizen was promised does not move. The
new department gets the time that is left; when that is too short it asks for an extension
(延期), which a supervisor decides knowing the case was recalled. An extension granted earlier
stays; a request still waiting is dropped with the old department, as are its signature (签收)
and any answer the review had sent back to it, and the handler it was assigned to.

The other steps of the centre's workflow that change no status: `priority` (紧急件, by the
centre), `assign` (a handler gives the case to a handler of the same department),
`interim-reply` (阶段性答复 to the citizen; the department keeps the case), `internal-note`
(内部备注, for staff only), and the leadership instruction's round: `instruct` (领导批示, with
the leader and a feedback deadline) and `instruction-feedback` (反馈, which closes every
instruction waiting on the case; `instruction_overdue` says when one waits past its day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, Protocol

from .deadlines import Deadlines, local_date
from .errors import (
    DomainError,
    Forbidden,
    IllegalTransition,
    NotFound,
    UnknownReference,
    ValidationFailed,
)
from .workdays import WorkCalendar


class Status(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    REPLIED = "replied"
    REVIEWED = "reviewed"
    ANSWERED = "answered"  # 即时答复, then closed
    CLOSED = "closed"
    RETURNED = "returned"  # 退单, back to dispatch
    REOPENED = "reopened"  # 重办
    MERGED = "merged"  # 并单: merged into a lead case, closed with the lead's answer


class Kind(StrEnum):
    HANDLE = "handle"  # 转办件: to be handled and answered
    INFORM = "inform"  # 转阅件: for information only
    INSTANT = "instant"  # 即时答复: answered on the spot


class Role(StrEnum):
    OPERATOR = "operator"
    HANDLER = "handler"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


# The role groups every entry point names (the API's `login_required` lets admins through all):
# everyone who works on cases, and the centre's own staff — its operators (坐席) and supervisors
# (督办) — as against the departments' handlers.
STAFF = (Role.OPERATOR, Role.HANDLER, Role.SUPERVISOR)
CENTRE = (Role.OPERATOR, Role.SUPERVISOR)


OPEN_STATUSES = frozenset(Status) - {Status.CLOSED}
# The answer deadline still counts (the case list's `overdue`, the supervisor's lists): not yet
# answered, or answered and waiting for review, which may send the answer back.
CLOCK_RUNNING = frozenset({Status.RECEIVED, Status.DISPATCHED, Status.ACCEPTED, Status.RETURNED,
                           Status.REOPENED, Status.REPLIED})
# No answer yet (超期未答复 in reports, escalation by the sweep): a reply waiting for the
# centre's review is not the department's delay.
UNANSWERED = CLOCK_RUNNING - {Status.REPLIED}
# Statuses in which a department holds the case (and may be asked for feedback on it).
WITH_DEPARTMENT = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.REPLIED})
# A department holds the case and owes its answer: what the sweep reminds of and escalates
# (催办/督办) and scores points on, and what a co-handler still owes its part for. A reply
# waiting for the centre's review (`replied`) is left out on purpose: not the department's delay.
AWAITING_DEPARTMENT = WITH_DEPARTMENT & UNANSWERED
# The citizen's matter has an answer (即时答复, or a reply the centre approved): the status shown
# to the citizen carries it and no deadline, and the knowledge base learns from it.
ANSWER_GIVEN = frozenset({Status.ANSWERED, Status.REVIEWED, Status.CLOSED})
MAX_EXTENSION_DAYS = 30


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"  # 紧急件: first in every queue


# A leadership instruction (领导批示) wants the department's feedback (反馈) within this many
# working days unless it says otherwise; at most MAX_FEEDBACK_DAYS.
INSTRUCTION_FEEDBACK_DAYS = 5
MAX_FEEDBACK_DAYS = 30


class CaseLike(Protocol):
    status: str
    kind: str
    department_code: str | None
    supervised: bool
    pending_extension_days: int | None
    pending_extension_reason: str | None
    extension_days: int
    reply_text: str | None
    answer_text: str | None
    deadline_base_at: dt.datetime
    accepted_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    priority: str
    assignee: str | None
    instruction_due_date: dt.date | None


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    department_code: str | None = None


# The centre's own machinery (sweeps, follow-up, media fetching, a merged case following its
# lead): on a timeline as 系统. Its role is no staff role, so no rule of `ACTIONS` admits it.
SYSTEM = Actor(name="system", role="system")


@dataclass
class Context:
    """What an action may need from outside the case: the time, the deadline arithmetic and
    what exists (departments, the handlers of a department)."""

    now: dt.datetime
    deadlines: Callable[[CaseLike], Deadlines]
    department_exists: Callable[[str], bool] = lambda code: True
    # 并单: the case of this number, if the actor may see it (None otherwise).
    find_case: Callable[[str], Any] = lambda number: None
    # 协办: a new co-handling department record (the ORM row in production).
    new_cohandler: Callable[..., Any] = lambda **fields: SimpleNamespace(**fields)
    calendar: WorkCalendar | None = None
    # (department, user name) -> whether that user is an active handler of the department.
    handler_of: Callable[[str, str], bool] = lambda department, name: True


@dataclass
class Event:
    action: str
    note: str | None
    from_status: str
    to_status: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionRule:
    name: str
    sources: frozenset[Status] | None  # None: the action does not depend on the status list
    roles: frozenset[Role]
    own_department: bool  # a handler may act only on cases of its department
    apply: Callable[[CaseLike, Actor, dict, Context], tuple[str, dict]]
    # What else the case must be beyond its status: the reason it is not, or None.
    ready: Callable[[CaseLike], str | None] = lambda case: None
    # 协办: only a handler of a co-handling department of the case may (and no other handler).
    cohandler: bool = False


def _require_text(body: dict, key: str) -> str:
    value = (body.get(key) or "").strip()
    if not value:
        raise ValidationFailed(f"'{key}' is required", {key: ["Missing data for required field."]})
    return value


def _dispatch(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    department = _require_text(body, "department")
    if not ctx.department_exists(department):
        raise UnknownReference("unknown department",
                               {"department": [f"No department {department!r}."]})
    case.department_code = department
    if body.get("kind"):
        if body["kind"] not in (Kind.HANDLE, Kind.INFORM):
            raise ValidationFailed("a dispatched case is 'handle' or 'inform'",
                                   {"kind": ["Must be one of: handle, inform."]})
        case.kind = body["kind"]
    elif case.kind == Kind.INSTANT:
        case.kind = Kind.HANDLE
    data: dict[str, Any] = {"department": department, "kind": case.kind}
    if body.get("cohandlers"):
        data["cohandlers"] = _add_cohandlers(case, body["cohandlers"], actor, ctx, "cohandlers")
    return Status.DISPATCHED, data


def _recall(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    """改派: the centre takes the case back from the department that holds it and sends it to
    another in one step. The deadlines stay (the module's docstring says why)."""
    department = _require_text(body, "department")
    reason = _require_text(body, "reason")
    previous = case.department_code
    if department == previous:
        raise ValidationFailed("the case is with that department already",
                               {"department": ["Choose another department."]})
    if not ctx.department_exists(department):
        raise UnknownReference("unknown department",
                               {"department": [f"No department {department!r}."]})
    case.department_code = department
    # The new department starts from signing for it; what the old one had begun is its own
    # (on the timeline): its signature, a request for more time, an answer sent back to it.
    case.accepted_at = None
    case.pending_extension_days = None
    case.pending_extension_reason = None
    case.reply_text = None
    case.assignee = None
    return Status.DISPATCHED, {"department": department, "from_department": previous,
                               "reason": reason}


def _accept(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    case.accepted_at = ctx.now
    if case.kind == Kind.INFORM:
        # 转阅件 are for information: signing for one is the end of it.
        case.closed_at = ctx.now
        return Status.CLOSED, {}
    return Status.ACCEPTED, {}


def _return(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    reason = _require_text(body, "reason")
    previous = case.department_code
    case.department_code = None
    case.assignee = None
    return Status.RETURNED, {"reason": reason, "department": previous}


def _extension(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    days = body.get("working_days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationFailed("working_days must be a whole number of days",
                               {"working_days": [f"Must be between 1 and {MAX_EXTENSION_DAYS}."]})
    reason = _require_text(body, "reason")
    case.pending_extension_days = days
    case.pending_extension_reason = reason
    return case.status, {"working_days": days, "reason": reason}


def _extension_decision(case: CaseLike, actor: Actor, body: dict,
                        ctx: Context) -> tuple[str, dict]:
    approve = body.get("approve")
    if not isinstance(approve, bool):
        raise ValidationFailed("approve must be true or false", {"approve": ["Not a valid boolean."]})
    days = case.pending_extension_days
    case.pending_extension_days = None
    case.pending_extension_reason = None
    data: dict[str, Any] = {"approve": approve, "working_days": days}
    if approve:
        case.extension_days += days
        data["due_date"] = _apply_deadlines(case, ctx).due_date.isoformat()
    return case.status, data


def _reply(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    case.reply_text = _require_text(body, "text")
    case.replied_at = ctx.now
    return Status.REPLIED, {"text": case.reply_text}


def _review(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    approve = body.get("approve")
    if not isinstance(approve, bool):
        raise ValidationFailed("approve must be true or false", {"approve": ["Not a valid boolean."]})
    if approve:
        return Status.REVIEWED, {"approve": True}
    if not (body.get("note") or "").strip():
        raise ValidationFailed("say why the answer is sent back",
                               {"note": ["Required when approve is false."]})
    # Back to the department, which answers again; its deadline is unchanged.
    case.replied_at = None
    return Status.ACCEPTED, {"approve": False}


def _answer(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    case.answer_text = _require_text(body, "text")
    case.kind = Kind.INSTANT
    case.replied_at = ctx.now
    return Status.ANSWERED, {"text": case.answer_text}


def _instruct(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    """领导批示: the leader's words, who the leader is, and by when the department reports back
    (反馈): `feedback_days` working days from today, or the date `feedback_by`; by default
    INSTRUCTION_FEEDBACK_DAYS. The case is supervised (督办件) from now on."""
    text = _require_text(body, "text")
    leader = (body.get("leader") or "").strip() or None
    today = local_date(ctx.now)
    days, by = body.get("feedback_days"), body.get("feedback_by")
    if days is not None and by is not None:
        raise ValidationFailed("give feedback_days or feedback_by, not both",
                               {"feedback_by": ["Not with feedback_days."]})
    if by is not None:
        if not isinstance(by, dt.date) or by < today:
            raise ValidationFailed("the feedback date is in the past",
                                   {"feedback_by": ["Must be today or later."]})
        due = by
    else:
        days = INSTRUCTION_FEEDBACK_DAYS if days is None else days
        if not isinstance(days, int) or isinstance(days, bool) \
                or not 1 <= days <= MAX_FEEDBACK_DAYS:
            raise ValidationFailed("feedback_days must be a whole number of days", {
                "feedback_days": [f"Must be between 1 and {MAX_FEEDBACK_DAYS}."]})
        due = (ctx.calendar or WorkCalendar()).add_working_days(today, days).date
    case.supervised = True
    waiting = getattr(case, "instruction_due_date", None)
    case.instruction_due_date = min(waiting, due) if waiting else due
    return case.status, {"text": text, "leader": leader, "feedback_due_date": due.isoformat()}


def _instruction_feedback(case: CaseLike, actor: Actor, body: dict,
                          ctx: Context) -> tuple[str, dict]:
    """反馈: the department reports what it did on the instructions; that closes them all."""
    text = _require_text(body, "text")
    due = case.instruction_due_date
    case.instruction_due_date = None
    return case.status, {"text": text, "feedback_due_date": due.isoformat() if due else None,
                         "late": bool(due and local_date(ctx.now) > due)}


def _priority(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    value = body.get("priority")
    if value not in tuple(Priority):
        raise ValidationFailed("priority is 'normal' or 'urgent'",
                               {"priority": ["Must be one of: normal, urgent."]})
    if value == getattr(case, "priority", Priority.NORMAL):
        raise ValidationFailed(f"the case is {value} already",
                               {"priority": [f"The case is {value} already."]})
    previous = getattr(case, "priority", Priority.NORMAL)
    case.priority = value
    return case.status, {"priority": value, "previous_priority": previous}


def _assign(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    """The case goes to one handler of the department (承办人): theirs among the desk's cases."""
    name = _require_text(body, "handler")
    if not ctx.handler_of(case.department_code, name):
        raise UnknownReference("no such handler in the department", {
            "handler": [f"{name!r} is not an active handler of {case.department_code}."]})
    previous = getattr(case, "assignee", None)
    case.assignee = name
    return case.status, {"handler": name, "previous_handler": previous}


def _internal_note(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    """内部备注: for the staff who can see the case; never for the citizen."""
    return case.status, {"text": _require_text(body, "text")}


def _interim_reply(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    """阶段性答复: the department tells the citizen how far it has got; it keeps the case."""
    return case.status, {"text": _require_text(body, "text")}


def _close(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    case.closed_at = ctx.now
    return Status.CLOSED, {}


def _reopen(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    reason = _require_text(body, "reason")
    case.closed_at = None
    case.accepted_at = None
    case.replied_at = None
    case.extension_days = 0
    case.deadline_base_at = ctx.now
    deadlines = _apply_deadlines(case, ctx)
    return Status.REOPENED, {"reason": reason, "due_date": deadlines.due_date.isoformat()}


def _apply_deadlines(case: CaseLike, ctx: Context) -> Deadlines:
    deadlines = ctx.deadlines(case)
    case.accept_due_date = deadlines.accept_due_date
    case.due_date = deadlines.due_date
    case.due_at = deadlines.due_at
    case.deadline_provisional = deadlines.provisional
    return deadlines


def _with_a_department(case: CaseLike) -> str | None:
    if not case.department_code:
        return "the case is with no department"
    return None


def _instruction_waiting(case: CaseLike) -> str | None:
    if getattr(case, "instruction_due_date", None) is None:
        return "no leadership instruction waits for feedback"
    return None


def _no_request_waiting(case: CaseLike) -> str | None:
    if case.pending_extension_days:
        return "an extension request is already waiting for a decision"
    return None


def _request_waiting(case: CaseLike) -> str | None:
    if not case.pending_extension_days:
        return "there is no extension request waiting for a decision"
    return None


def _not_inform(case: CaseLike) -> str | None:
    if case.kind == Kind.INFORM:
        return "a 转阅件 (inform) case is not answered on the spot"
    return None


# --- 协办 / 会办: co-handling departments ----------------------------------------------------
# A co-handling department's part (协办意见) is due this many working days before the lead's
# answer, so that the lead can put it into the answer; when the lead's deadline is nearer than
# that, the part is due on the first working day after the department was added (never after
# the lead's own deadline). It is set when the department is added: an extension of the lead's
# deadline does not move it.
COHANDLER_LEAD_DAYS = 3
MAX_COHANDLERS = 10


def cohandling_departments(case: Any) -> list[str]:
    """The codes of a case's co-handling departments."""
    return [c.department_code for c in (getattr(case, "cohandlers", None) or ())]


def cohandler_due_date(lead_due: dt.date | None, today: dt.date,
                       calendar: WorkCalendar) -> dt.date | None:
    """When a co-handling department's part is due (see COHANDLER_LEAD_DAYS)."""
    if lead_due is None:
        return None
    due, counted = lead_due, 0
    while counted < COHANDLER_LEAD_DAYS:
        due -= dt.timedelta(days=1)
        if calendar.is_workday(due):
            counted += 1
    earliest = calendar.add_working_days(today, 1).date
    return min(max(due, earliest), lead_due)


def _add_cohandlers(case: CaseLike, codes: Any, actor: Actor, ctx: Context,
                    key: str) -> list[str]:
    """Check every code, then add them all (or none) as co-handling departments."""
    if not isinstance(codes, list) or not codes or not all(
            isinstance(c, str) and c.strip() for c in codes):
        raise ValidationFailed("name the co-handling departments",
                               {key: ["A list of department codes."]})
    wanted = list(dict.fromkeys(c.strip() for c in codes))
    lead = case.department_code
    if lead in wanted:
        raise ValidationFailed("the lead department cannot also co-handle the case",
                               {key: [f"{lead!r} is the lead department."]})
    present = set(cohandling_departments(case))
    again = [c for c in wanted if c in present]
    if again:
        raise ValidationFailed("already a co-handling department",
                               {key: [f"{', '.join(again)} already co-handles this case."]})
    unknown = [c for c in wanted if not ctx.department_exists(c)]
    if unknown:
        raise UnknownReference("unknown department",
                               {key: [f"No department {c!r}." for c in unknown]})
    if len(present) + len(wanted) > MAX_COHANDLERS:
        raise ValidationFailed("too many co-handling departments",
                               {key: [f"At most {MAX_COHANDLERS}."]})
    due = cohandler_due_date(case.due_date, _today(ctx), ctx.calendar or WorkCalendar())
    for code in wanted:
        case.cohandlers.append(ctx.new_cohandler(
            department_code=code, added_at=ctx.now, added_by=actor.name, due_date=due,
            part_text=None, part_at=None, part_by=None))
    return wanted


def _today(ctx: Context) -> dt.date:
    return local_date(ctx.now)


def _cohandle(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    added = _add_cohandlers(case, body.get("departments"), actor, ctx, "departments")
    due = cohandler_due_date(case.due_date, _today(ctx), ctx.calendar or WorkCalendar())
    return case.status, {"departments": added, "deadline": due.isoformat() if due else None}


def _has_cohandlers(case: CaseLike) -> str | None:
    if not cohandling_departments(case):
        return "the case has no co-handling department"
    return None


def _cohandle_part(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    text = _require_text(body, "text")
    code = body.get("department") or actor.department_code
    if actor.role == Role.HANDLER and code != actor.department_code:
        raise ValidationFailed("a department gives its own part",
                               {"department": ["Only your own department."]})
    row = next((c for c in getattr(case, "cohandlers", None) or ()
                if c.department_code == code), None)
    if row is None:
        raise ValidationFailed("not a co-handling department of this case",
                               {"department": [f"{code!r} does not co-handle this case."]})
    row.part_text, row.part_at, row.part_by = text, ctx.now, actor.name
    return case.status, {"department": code, "text": text}


# --- 并单: merging a case into a lead case -----------------------------------------------------
# The merged case leaves every queue (its status is `merged`, no department holds it and its
# clock stops) and follows the lead: when the lead is closed, `follow_lead` closes it with the
# lead's answer. Merging into a case that is itself merged merges into that case's lead, so a
# lead is never merged itself (the cases merged into a case that is merged later move to the
# new lead with it).
MERGE_FROM = frozenset({Status.RECEIVED, Status.RETURNED, Status.DISPATCHED, Status.ACCEPTED,
                        Status.REOPENED})


def _merge(case: CaseLike, actor: Actor, body: dict, ctx: Context) -> tuple[str, dict]:
    number = _require_text(body, "into")
    lead = ctx.find_case(number)
    if lead is None:
        raise UnknownReference("unknown case", {"into": [f"No case {number!r}."]})
    if lead is case:
        raise ValidationFailed("a case cannot be merged into itself",
                               {"into": ["Name another case."]})
    if lead.status == Status.MERGED:
        lead = lead.merged_into  # its lead: leads are never merged themselves
        if lead is None or lead is case:
            raise IllegalTransition(f"case {number} is merged into this case already")
    if lead.status == Status.CLOSED:
        raise IllegalTransition(f"case {lead.number} is closed; merge into an open case")
    previous = case.department_code
    case.merged_into = lead
    case.department_code = None
    case.pending_extension_days = None
    case.pending_extension_reason = None
    data: dict[str, Any] = {"into": lead.number, "department": previous}
    if lead.number != number:
        data["asked"] = number
    return Status.MERGED, data


def follow_lead(case: CaseLike, lead: Any, now: dt.datetime) -> Event:
    """The lead case of a merged case is closed: the merged case is closed with the same answer
    (the citizen is then told and surveyed like any closed case's)."""
    if case.status != Status.MERGED:
        raise IllegalTransition(f"case is {case.status}, not merged")
    case.reply_text = lead.reply_text
    case.answer_text = lead.answer_text
    case.replied_at = lead.replied_at or now
    case.closed_at = now
    before, case.status = case.status, Status.CLOSED
    return Event(action="close", note=None, from_status=before, to_status=Status.CLOSED,
                 data={"lead": lead.number, "text": lead.reply_text or lead.answer_text})


S = Status
R = Role
_STAFF_DISPATCH = frozenset({R.OPERATOR, R.SUPERVISOR})

ACTIONS: dict[str, ActionRule] = {
    rule.name: rule
    for rule in (
        ActionRule("dispatch", frozenset({S.RECEIVED, S.RETURNED, S.REOPENED}), _STAFF_DISPATCH,
                   False, _dispatch),
        ActionRule("recall", frozenset({S.DISPATCHED, S.ACCEPTED}), _STAFF_DISPATCH, False,
                   _recall),
        ActionRule("accept", frozenset({S.DISPATCHED}), frozenset({R.HANDLER}), True, _accept),
        ActionRule("return", frozenset({S.DISPATCHED}), frozenset({R.HANDLER}), True, _return),
        ActionRule("extension", frozenset({S.ACCEPTED}), frozenset({R.HANDLER}), True, _extension,
                   _no_request_waiting),
        ActionRule("extension-decision", frozenset({S.ACCEPTED, S.REPLIED}),
                   frozenset({R.SUPERVISOR}), False, _extension_decision, _request_waiting),
        ActionRule("reply", frozenset({S.ACCEPTED}), frozenset({R.HANDLER}), True, _reply),
        ActionRule("review", frozenset({S.REPLIED}), _STAFF_DISPATCH, False, _review),
        ActionRule("answer", frozenset({S.RECEIVED, S.RETURNED}), frozenset({R.OPERATOR}), False,
                   _answer, _not_inform),
        ActionRule("instruct", frozenset(OPEN_STATUSES), frozenset({R.SUPERVISOR}), False,
                   _instruct),
        ActionRule("close", frozenset({S.REVIEWED, S.ANSWERED}), _STAFF_DISPATCH, False, _close),
        ActionRule("reopen", frozenset({S.CLOSED}), frozenset({R.SUPERVISOR}), False, _reopen),
        ActionRule("cohandle", frozenset({S.DISPATCHED, S.ACCEPTED}), _STAFF_DISPATCH, False,
                   _cohandle),
        ActionRule("cohandle-part", frozenset({S.DISPATCHED, S.ACCEPTED}),
                   frozenset({R.HANDLER}), False, _cohandle_part, _has_cohandlers,
                   cohandler=True),
        ActionRule("merge", MERGE_FROM, _STAFF_DISPATCH, False, _merge),
        # A merged case (并单) follows its lead: nothing of its own to hurry.
        ActionRule("priority", frozenset(OPEN_STATUSES) - {S.MERGED}, _STAFF_DISPATCH, False,
                   _priority),
        ActionRule("assign", frozenset({S.DISPATCHED, S.ACCEPTED}), frozenset({R.HANDLER}), True,
                   _assign, _with_a_department),
        ActionRule("interim-reply", frozenset({S.ACCEPTED}), frozenset({R.HANDLER}), True,
                   _interim_reply),
        ActionRule("instruction-feedback", frozenset(WITH_DEPARTMENT), frozenset({R.HANDLER}),
                   True, _instruction_feedback, _instruction_waiting),
        # Anyone who sees the case, a co-handling department (协办) too.
        ActionRule("internal-note", None, frozenset(STAFF), False, _internal_note),
    )
}


def is_overdue(case: Any, now: dt.datetime) -> bool:
    """Past its answer deadline while the clock still runs (the list's and the console's red)."""
    return case.status in CLOCK_RUNNING and case.due_at is not None and case.due_at < now


def instruction_overdue(case: Any, now: dt.datetime) -> bool:
    """A leadership instruction waits for the department's feedback past its day (批示逾期)."""
    due = getattr(case, "instruction_due_date", None)
    return (due is not None and case.status in OPEN_STATUSES
            and local_date(now) > due)


# -- department scoping (部门范围): one rule for every read ------------------------------------
#
# A handler sees only what their department handles; everyone else on staff sees everything.
# - One object (a case, its attachment, an action on it) of another department: 404, as if it
#   did not exist (`may_see`, `refusal`) — a 403 would tell that the number is a case.
# - A list, an export or a report: narrowed, never refused (`narrowed_department`). A handler's
#   list is what they may see whatever filter they send; a department filter naming another
#   department does not widen it, and it is not refused with 403 either.
# The API, the console and the exports all read through these functions.


# Department codes start with a letter or digit: this one belongs to no department, so a
# handler without a department (which the user schema refuses, but a row may hold) sees nothing.
NO_DEPARTMENT = "-"


def narrowed_department(actor: Actor, asked: str | None) -> str | None:
    """The department a list or report is narrowed to: for a handler their own, whatever
    department they asked for (NO_DEPARTMENT when they have none); for the rest of the staff
    the one they asked for, or None for all."""
    if actor.role == Role.HANDLER:
        return actor.department_code or NO_DEPARTMENT
    return asked


def can_see(actor: Actor, department_code: str | None) -> bool:
    """Handlers see only their own department's cases; everyone else on staff sees all."""
    if actor.role == Role.HANDLER:
        return department_code is not None and department_code == actor.department_code
    return True


def may_see(actor: Actor, case: Any) -> bool:
    """Whether the actor may see this case: a handler sees the cases of their department and
    the cases it co-handles (协办); everyone else on staff sees all."""
    return can_see(actor, case.department_code) or (
        actor.role == Role.HANDLER and actor.department_code is not None
        and actor.department_code in cohandling_departments(case))


def refusal(action: str, actor: Actor, case: CaseLike) -> DomainError | None:
    """Why `perform` would refuse the action from this actor on the case as it is now (whatever
    the body says), or None when it may go ahead. Changes nothing."""
    rule = ACTIONS.get(action)
    if rule is None:
        return NotFound(f"no action '{action}'; actions are: {', '.join(ACTIONS)}")
    if not may_see(actor, case):
        return NotFound("no such case")
    if actor.role != Role.ADMIN and actor.role not in rule.roles:
        allowed = ", ".join(sorted(rule.roles))
        return Forbidden(f"'{action}' is for {allowed}; you are {actor.role}")
    if actor.role == Role.HANDLER:
        # A co-handling department (协办) sees the case and adds its part; the lead's steps
        # are the lead's, and the part is a co-handler's.
        if rule.own_department and case.department_code != actor.department_code:
            return Forbidden(f"'{action}' is for the lead department; a co-handling department "
                             "adds its part (cohandle-part)")
        if rule.cohandler and (actor.department_code not in cohandling_departments(case)
                               or actor.department_code == case.department_code):
            return Forbidden(f"'{action}' is for a co-handling department of the case")
    if rule.sources is not None and case.status not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        return IllegalTransition(
            f"cannot {action} a case that is {case.status}; it must be {allowed}")
    not_ready = rule.ready(case)
    if not_ready:
        return IllegalTransition(not_ready)
    return None


# Who may correct what intake recorded (category, region, citizen, content), in any status: the
# centre's staff who log, dispatch and review cases. A department works with what it was given
# and returns a case it thinks is misfiled (退单) rather than rewriting it.
CORRECTORS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def may_correct(actor: Actor, case: CaseLike) -> bool:
    """Whether the actor may correct the case's intake details."""
    return actor.role in CORRECTORS and may_see(actor, case)


def allowed_actions(actor: Actor, case: CaseLike) -> list[str]:
    """The actions the actor may take on the case now, in the table's order: what the console
    offers as buttons, and only that."""
    return [name for name in ACTIONS if refusal(name, actor, case) is None]


def perform(action: str, case: CaseLike, actor: Actor, body: dict[str, Any],
            ctx: Context) -> Event:
    """Check and apply one lifecycle action; on any refusal the case is left untouched."""
    problem = refusal(action, actor, case)
    if problem is not None:
        raise problem
    rule = ACTIONS[action]
    snapshot = dict(vars(case)) if hasattr(case, "__dict__") else None
    before = case.status
    try:
        to_status, data = rule.apply(case, actor, body, ctx)
    except Exception:
        _restore(case, snapshot)
        raise
    case.status = str(to_status)
    note = body.get("note")
    return Event(action=action, note=note, from_status=before, to_status=case.status, data=data)


def _restore(case: Any, snapshot: dict | None) -> None:
    # A refusal discovered mid-way (bad body after a field was set) must leave nothing behind.
    if snapshot is None:
        return
    for key, value in snapshot.items():
        if not key.startswith("_sa_"):
            setattr(case, key, value)
