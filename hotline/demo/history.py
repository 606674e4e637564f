"""A believable past for a demo installation: `hotline seed-demo --history DAYS`.

The cases of the last DAYS days are made and moved through the real domain code, each step at
its back-dated moment: `services.create_case` (routing follows it, as every intake, and may
dispatch at once), `services.apply_action` for every lifecycle step, `surveys.record_answer` for the
citizens' ratings and the publication service (`hotline.publication.approve`, with its
masking) for board letters whose writers consented. Steps whose moment would come after now
are not taken, so the present holds open, due-soon and overdue cases like a real centre's.
What follows each step (`hotline.wiring.EVENT_HANDLERS`) is stamped with the step's moment, so
every timeline is in time order with nothing set back afterwards.

The history is written inside `hotline.outbox.withheld`: the outward messages (status notices,
surveys, department notices) that follow these steps are written already "cancelled", with a
note, so the relay never picks them up: they stay in the outbox as the record of what would
have gone out, and no citizen gets a text about an event of last month; their surveys count as
reminded, so the reminder sweep does not text anyone about the past either.

The whole history is one transaction: it is there whole or not at all (an interrupted run
leaves nothing a second run would take for a history already made), and its thousands of
steps cost one commit, not one each.

Everything is deterministic for a given seed and `now`. The history's cases carry the
idempotency key `demo-history:<seed>:<n>`, which is also how a second run sees that the history
is already there and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from .. import services, surveys
from ..domain.deadlines import end_of_day
from ..domain.errors import DomainError
from ..domain.lifecycle import Actor, Kind, Status
from ..extensions import db
from ..models import CallbackTask, Case, Department, Survey
from ..models.types import utcnow
from ..outbox import withheld
from ..reports.rollup import counted_at_the_end
from .clock import OfficeClock
from .people import (
    ANSWERS,
    EXTENSION_REASONS,
    INSTRUCTIONS,
    LINE_DEPARTMENT,
    OPERATORS,
    REOPEN_REASONS,
    REPLIES,
    RETURN_REASONS,
    REVIEW_REJECTS,
    SUPERVISOR,
    UNSATISFIED,
    load_messages,
)

HISTORY_KEY = "demo-history:"
HISTORY_BY = "demo-history"
WITHHELD_NOTE = "演示历史：事件发生在过去，不向群众发送"


class HistoryExists(DomainError):
    """The demo history is there already: a second run adds nothing."""

    status = 409
    code = "history_exists"


@dataclass
class HistoryReport:
    """What a run made, counted as it went; `lines` is what `hotline seed-demo` prints."""

    days: int
    cases: int = 0
    by_line: dict[str, int] = field(default_factory=dict)
    auto_dispatched: int = 0
    answered: int = 0
    returned: int = 0
    extensions: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0
    due_soon: int = 0
    surveys_answered: int = 0
    unsatisfied: int = 0
    reopened: int = 0
    published: int = 0
    withheld_messages: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        by_line = "，".join(f"{k} {v}" for k, v in sorted(self.by_line.items()))
        return [
            f"demo history of {self.days} days: {self.cases} cases ({by_line})",
            (f"  auto-dispatched by routing {self.auto_dispatched}, answered on the spot "
            f"{self.answered}, returned {self.returned}, extensions asked {self.extensions}"),
            (f"  closed {self.closed}, open {self.open} (overdue now {self.overdue}, due within "
            f"2 days {self.due_soon}), reopened {self.reopened}"),
            (f"  surveys answered {self.surveys_answered} (unsatisfied {self.unsatisfied}), "
            f"published on the board {self.published}"),
            f"  outbox messages withheld (cancelled, never sent) {self.withheld_messages}",
            f"  took {self.seconds:.1f} s",
        ]


def history_cases() -> int:
    """How many cases an earlier `--history` run made."""
    return db.session.scalar(select(func.count(Case.id)).where(
        Case.idempotency_key.like(HISTORY_KEY + "%"))) or 0


def seed_history(days: int, seed: int = 2026, now: dt.datetime | None = None) -> HistoryReport:
    """Make the cases of the last `days` days through the domain code (see the module)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    existing = history_cases()
    if existing:
        raise HistoryExists(f"demo history already present ({existing} cases); nothing added")
    started = time.monotonic()
    writer = _HistoryWriter(random.Random(seed), seed, now or utcnow(), days)
    # One transaction (see the module): every step in it, none committed on its own; the
    # report figures count each case once, as the history leaves it, not at every step.
    with withheld(HISTORY_BY, WITHHELD_NOTE) as withholding, services.committing(), \
            counted_at_the_end(db.session):
        writer.write()
    writer.report.withheld_messages = withholding.count
    writer.report.seconds = time.monotonic() - started
    return writer.report


class _HistoryWriter:
    """Writes the history: each arrival made a case and taken through its steps."""

    def __init__(self, rng: random.Random, seed: int, now: dt.datetime, days: int):
        self.rng = rng
        self.seed = seed
        self.last_step: dict[int, dt.datetime] = {}  # case id -> when its latest step was
        self.now = now
        self.report = HistoryReport(days=days)
        self.clock = OfficeClock(rng, services.work_calendar(), now)
        self.departments = {d.code: d.name for d in db.session.scalars(select(Department))}

    # -- the steps --------------------------------------------------------------------------

    def step(self, case: Case, action: str, at: dt.datetime, actor: Actor,
             **body: Any) -> bool:
        """Take one lifecycle step at `at`, unless that is still to come. A step drawn before
        the case's previous one takes place at that moment instead: each moment is drawn on its
        own, and a timeline must stay in order (it did not for one case of the seed's history
        made at 00:05 on 2026-12-08, Beijing time)."""
        at = max(at, self.last_step.get(case.id, at))
        if at >= self.now:
            return False
        services.apply_action(case, action, actor, body, now=at)
        self.last_step[case.id] = at
        return True

    def handler(self, case: Case) -> Actor:
        return Actor(f"handler-{case.department_code}", "handler", case.department_code)

    def operator(self) -> Actor:
        return self.rng.choice(OPERATORS)

    def department_for(self, case: Case, message: dict[str, Any]) -> str:
        suggested = (case.routing or {}).get("department")
        for code in (suggested, message.get("department"), LINE_DEPARTMENT[case.line.code]):
            if code and code in self.departments:
                return code
        return LINE_DEPARTMENT[case.line.code]

    def other_department(self, case: Case, previous: str) -> str:
        """Where an operator sends a returned case: the local government, or the province."""
        if previous.startswith("gz-") and case.region and len(case.region) == 6:
            local_gov = f"gov-{case.region[:4]}00"
            if local_gov in self.departments:
                return local_gov
        fallback = LINE_DEPARTMENT[case.line.code]
        return fallback if fallback != previous else "gz-fupin"

    # -- the history --------------------------------------------------------------------------

    def write(self) -> None:
        messages = load_messages()
        by_line: dict[str, list[dict[str, Any]]] = {}
        for m in messages:
            by_line.setdefault(m["line"], []).append(m)
        for pool in by_line.values():
            self.rng.shuffle(pool)
        used: dict[str, int] = {}
        for n, (received, line) in enumerate(self.clock.arrivals(self.report.days), start=1):
            pool = by_line[line]
            i = used.get(line, 0)
            used[line] = i + 1
            message = dict(pool[i % len(pool)])
            if i >= len(pool):  # the same matter from somebody else
                message["citizen"] = self.other_citizen(message)
            self.live(n, received, message)
        self.count_present()

    def other_citizen(self, message: dict[str, Any]) -> dict[str, Any]:
        citizen = dict(message["citizen"])
        citizen["name"] = self.rng.choice("王李张刘陈杨黄赵吴周罗龙") + self.rng.choice(
            ["永华", "桂英", "德明", "小平", "兴国", "秀珍", "发贵", "淑芬"])
        citizen["phone"] = self.rng.choice(["139", "151", "187", "135"]) + "".join(
            self.rng.choice("0123456789") for _ in range(8))
        return citizen

    def live(self, n: int, received: dt.datetime, message: dict[str, Any]) -> None:
        """One case from its arrival as far as the present allows."""
        rng = self.rng
        citizen = dict(message["citizen"])
        if message["channel"] == "wechat":
            citizen["openid"] = "o" + "".join(rng.choice(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
                for _ in range(27))
        data = {"line": message["line"], "channel": message["channel"],
                "category": message["category"], "content": message["content"],
                "citizen": citizen, "public_consent": bool(message.get("public_consent")),
                "received_at": received}
        case, _ = services.create_case(data, self.operator(),
                                       idempotency_key=f"{HISTORY_KEY}{self.seed}:{n}",
                                       now=received, commit=False)
        self.report.cases += 1
        self.report.by_line[case.line.code] = self.report.by_line.get(case.line.code, 0) + 1
        if case.status == Status.DISPATCHED:
            self.report.auto_dispatched += 1
        t = received

        if case.status == Status.RECEIVED:
            consult = case.category is not None and case.category.code in (
                "policy_consult", "general_consult")
            if consult and case.channel == "phone" and rng.random() < 0.4:
                self.answer_on_the_spot(case, received)
                return
            t = self.clock.after(received, 10, 150)
            kind = Kind.INFORM if (case.category is not None and case.category.code ==
                                   "suggestion" and rng.random() < 0.5) else Kind.HANDLE
            if not self.step(case, "dispatch", t, self.operator(),
                             department=self.department_for(case, message), kind=kind):
                return
        t = self.sign_for(case, t, message)
        if t is None or case.status == Status.CLOSED:
            return
        if not self.handle(case, t, first_round=True):
            return
        self.publish(case)

    def answer_on_the_spot(self, case: Case, received: dt.datetime) -> None:
        t = received + dt.timedelta(minutes=self.rng.uniform(3, 12))
        operator = self.operator()
        if not self.step(case, "answer", t, operator, text=self.rng.choice(ANSWERS)):
            return
        self.report.answered += 1
        t += dt.timedelta(minutes=self.rng.uniform(20, 90))
        if self.step(case, "close", t, operator):
            self.survey(case, t)

    def sign_for(self, case: Case, dispatched: dt.datetime,
                 message: dict[str, Any]) -> dt.datetime | None:
        """The department signs for the case (签收), or returns it once (退单); None: not yet."""
        rng = self.rng
        t = dispatched
        returned = False
        while True:
            deadline = end_of_day(case.accept_due_date)
            if rng.random() < 0.88:
                t = self.clock.after(t, 15, 420)
                if t > deadline:
                    t = max(deadline - dt.timedelta(hours=rng.uniform(1, 8)), dispatched)
            else:  # signed late
                t = self.clock.after(deadline, 60 * 9, 60 * 24 * 3)
            if not returned and rng.random() < 0.07:
                previous = case.department_code
                if not self.step(case, "return", t, self.handler(case),
                                 reason=rng.choice(RETURN_REASONS)):
                    return None
                self.report.returned += 1
                returned = True
                t = self.clock.after(t, 30, 240)
                if not self.step(case, "dispatch", t, self.operator(),
                                 department=self.other_department(case, previous),
                                 note="退单后重新分派"):
                    return None
                dispatched = t
                continue
            return t if self.step(case, "accept", t, self.handler(case)) else None

    def handle(self, case: Case, accepted: dt.datetime, *, first_round: bool) -> bool:
        """Extension, reply, review, close and the survey; True when the case ended closed."""
        rng = self.rng
        t = accepted
        fate = rng.random()
        if first_round and fate < 0.05:  # stuck at the department: overdue, and supervised
            self.instruct_when_overdue(case)
            return False
        extra = 0
        if first_round and rng.random() < 0.1:
            ask = max(self.clock.after(accepted, 0, 0), self.clock.on_working_day(accepted, rng.randint(2, 6)))
            days = rng.choice((5, 10))
            if not self.step(case, "extension", ask, self.handler(case), working_days=days,
                             reason=rng.choice(EXTENSION_REASONS)):
                return False
            self.report.extensions += 1
            decided = self.clock.after(ask, 60, 60 * 20)
            approve = rng.random() < 0.7
            if not self.step(case, "extension-decision", decided, SUPERVISOR, approve=approve,
                             note="同意延期" if approve else "不同意延期，请按原时限办理"):
                return False
            extra = days if approve else 0
            t = decided
        budget = 10 + extra if first_round else 8
        if fate < 0.82:  # in time
            reply = self.clock.on_working_day(case.deadline_base_at, rng.randint(2, budget - 1))
        else:  # late
            reply = self.clock.on_working_day(case.deadline_base_at, budget + rng.randint(1, 4))
        reply = max(reply, self.clock.after(t, 60, 240))
        if reply >= self.now and case.due_at < self.now:
            self.instruct_when_overdue(case)
        text = rng.choice(REPLIES.get(case.category.code if case.category else "", None)
                          or REPLIES["complaint"])
        text = text.format(dept=self.departments.get(case.department_code, "承办单位"))
        if not self.step(case, "reply", reply, self.handler(case), text=text):
            return False
        t = self.clock.after(reply, 30, 60 * 16)
        if rng.random() < 0.06:
            if not self.step(case, "review", t, self.operator(), approve=False,
                             note=rng.choice(REVIEW_REJECTS)):
                return False
            t = self.clock.on_working_day(t, rng.randint(1, 2))
            if not self.step(case, "reply", t, self.handler(case),
                             text=text + "经补充核实，相关问题已落实整改，已电话告知您。"):
                return False
            t = self.clock.after(t, 30, 60 * 8)
        if not self.step(case, "review", t, self.operator(), approve=True):
            return False
        t = self.clock.after(t, 5, 90)
        if not self.step(case, "close", t, self.operator()):
            return False
        return self.survey(case, t)

    def instruct_when_overdue(self, case: Case) -> None:
        """A supervisor's instruction (批示) on a case a day past its deadline, 督办件."""
        at = self.clock.on_working_day(case.due_at, 1)
        if self.rng.random() < 0.6:
            self.step(case, "instruct", at, SUPERVISOR, text=self.rng.choice(INSTRUCTIONS))

    def survey(self, case: Case, closed: dt.datetime) -> bool:
        """The citizen's rating; an unsatisfied one may be reopened (重办). True: still closed."""
        rng = self.rng
        survey = db.session.scalar(select(Survey).where(
            Survey.case_id == case.id, Survey.answered_at.is_(None))
            .order_by(Survey.round.desc()).limit(1))
        if survey is None:
            return True
        at = closed + dt.timedelta(minutes=rng.uniform(30, 60 * 30))
        if at >= self.now:
            return True
        r = rng.random()
        rating = ("satisfied" if r < 0.72 else "basically_satisfied" if r < 0.9
                  else "unsatisfied")
        if survey.round > 1 and rating == "unsatisfied":
            rating = "basically_satisfied"
        comment = rng.choice(UNSATISFIED) if rating == "unsatisfied" else None
        task = db.session.scalar(select(CallbackTask).where(
            CallbackTask.case_id == case.id, CallbackTask.kind == "survey",
            CallbackTask.status == "open"))
        if task is not None or survey.channel == "voice":
            operator = self.operator()
            surveys.record_answer(survey, rating, comment, "phone", operator, at=at)
            if task is not None:  # as the call-back API records a survey call made
                task.status, task.done_at, task.done_by = "done", at, operator.name
        else:
            surveys.record_answer(survey, rating, comment, survey.channel, at=at)
        self.report.surveys_answered += 1
        if rating != "unsatisfied":
            return True
        self.report.unsatisfied += 1
        if rng.random() < 0.5:
            return True
        t = self.clock.after(at, 60 * 6, 60 * 30)
        if not self.step(case, "reopen", t, SUPERVISOR, reason=rng.choice(REOPEN_REASONS)):
            return True
        self.report.reopened += 1
        department = case.department_code or LINE_DEPARTMENT[case.line.code]
        t = self.clock.after(t, 20, 120)
        if not self.step(case, "dispatch", t, SUPERVISOR, department=department,
                         note="重办：请核实群众不满意的原因并重新答复"):
            return False
        t = self.clock.after(t, 30, 300)
        if not self.step(case, "accept", t, self.handler(case)):
            return False
        return self.handle(case, t, first_round=False)

    def publish(self, case: Case) -> None:
        """A consenting board writer's closed letter goes on the board (公开), masked."""
        from ..publication import approve

        if case.line.code != "board" or not case.public_consent or case.status != Status.CLOSED:
            return
        # After the closing, and after the citizen's rating when that came first.
        at = self.clock.after(case.events[-1].at, 60 * 2, 60 * 24 * 2)
        if at >= self.now or self.rng.random() < 0.1:
            return
        try:
            with db.session.begin_nested():
                approve(case, SUPERVISOR, "按脱敏规则公开", now=at)
        except DomainError:  # masking still finds personal data: staff would look at it
            return
        self.report.published += 1

    def count_present(self) -> None:
        rows = db.session.execute(select(Case.status, Case.due_at).where(
            Case.idempotency_key.like(HISTORY_KEY + "%"))).all()
        soon = self.now + dt.timedelta(days=2)
        for status, due_at in rows:
            if status == Status.CLOSED:
                self.report.closed += 1
                continue
            self.report.open += 1
            if status in (Status.REVIEWED, Status.ANSWERED):
                continue
            if due_at is not None and due_at < self.now:
                self.report.overdue += 1
            elif due_at is not None and due_at < soon:
                self.report.due_soon += 1
