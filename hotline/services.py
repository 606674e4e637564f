"""Use cases of the core: intake, lifecycle actions, calendar. Views, channels and workers call
these; each runs in the caller's transaction and commits once, so a refusal changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import attachments, engines, new_rows, reference
from .domain import case_numbers, lifecycle, phones
from .domain.deadlines import (
    FIRST_DAY,
    PROVINCE_TZ,
    Deadlines,
    Policy,
    compute_deadlines,
    local_date,
)
from .domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    StaleVersion,
    UnknownReference,
    ValidationFailed,
)
from .domain.lifecycle import Actor, Context, Status
from .domain.workdays import WorkCalendar, YearOverride
from .events import ActionTaken, CaseCreated
from .extensions import db
from .logs import bind_case
from .models import (
    CalendarYear,
    Case,
    CaseCohandler,
    CaseCounter,
    CaseEvent,
    Category,
    Line,
    User,
)
from .models.types import utcnow
from .warmup import REHEARSAL
from .wiring import publish

SYSTEM = lifecycle.SYSTEM


# The calendar is read on every intake; it changes a few times a year. Each process keeps it
# for a short while, and the process where an admin changes it drops its copy at once.
CALENDAR_TTL = 30.0
_calendar_cache: dict[str, Any] = {"at": -1e9, "calendar": None, "db": None}


def work_calendar() -> WorkCalendar:
    """The working-day calendar with the admin's overrides."""
    import time

    now = time.monotonic()
    engine_url = str(db.engine.url)
    if (_calendar_cache["calendar"] is not None and _calendar_cache["db"] == engine_url
            and now - _calendar_cache["at"] < CALENDAR_TTL):
        return _calendar_cache["calendar"]
    overrides = {
        row.year: YearOverride(
            row.year,
            frozenset(dt.date.fromisoformat(d) for d in row.holidays),
            frozenset(dt.date.fromisoformat(d) for d in row.workdays),
        )
        for row in db.session.scalars(select(CalendarYear))
    }
    calendar = WorkCalendar(overrides)
    _calendar_cache.update(at=now, calendar=calendar, db=engine_url)
    return calendar


def forget_calendar() -> None:
    _calendar_cache.update(at=-1e9, calendar=None)


def policy_for(case: Case) -> Policy:
    line = case.line
    policy = Policy(line.accept_days, line.reply_days, line.remind_days)
    if case.category is not None:
        cat = case.category
        policy = policy.overlaid(cat.accept_days, cat.reply_days, cat.remind_days)
    return policy


def deadlines_for(case: Case, calendar: WorkCalendar | None = None) -> Deadlines:
    return compute_deadlines(case.deadline_base_at, policy_for(case), case.extension_days,
                             calendar or work_calendar())


def apply_deadlines(case: Case, calendar: WorkCalendar | None = None) -> None:
    """Set the case's deadlines from its base, policy and extensions."""
    d = deadlines_for(case, calendar)
    case.accept_due_date = d.accept_due_date
    case.due_date = d.due_date
    case.due_at = d.due_at
    case.deadline_provisional = d.provisional


def public_numbers() -> list[str]:
    """The lines' own phone numbers: the government publishes them, masking leaves them."""
    return [n for n in db.session.scalars(select(Line.phone_number)) if n]


def mask_text(text: str, known_names: Iterable[str] = ()) -> str:
    """`text` with personal data masked as for publication (公开前脱敏): for the public board
    and wherever a case's text is quoted beyond its own record (reports, bulletins)."""
    from .masking import mask_personal_data

    return mask_personal_data(text, known_names, public_numbers=public_numbers())


def request_fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def next_number(prefix: str, day: dt.date) -> str:
    """FP20261123-0001: prefix, local date, sequence of the day — short enough to read aloud.

    The day's counter is the one row every intake of a line writes. Taken in the intake's own
    transaction it would stay locked until that intake commits (on SQLite the whole database
    would), and every other intake would wait through this one's routing and notices. So,
    while this transaction has written nothing yet, the number is taken in a short
    transaction of its own: a number whose intake then fails is not given again (a gap in the
    day's sequence), and the numbers stay unique and increasing.

    That transaction does not wait for the disk (`engines.non_durable`): what makes it
    durable is the intake's own commit, which does. Nothing acknowledged depends on it: both
    databases write one log in commit order, and the intake's commit that follows forces the
    log to disk up to itself, the counter's change included. A crash before that can lose only
    increments whose cases were never committed: their numbers are given again, and no
    committed case shares one.
    """
    key = f"{prefix}{day:%Y%m%d}"
    session = db.session()
    apart = engines.non_durable(db.engine)
    if apart is not None and _may_take_apart(session):
        with apart.connect() as connection:
            value = _take_counter(connection, key)
            if session.info.get(REHEARSAL):
                connection.rollback()  # taken as for real, and given back
            else:
                connection.commit()
    else:  # on the transaction's connection: the statements a number of its own runs
        value = _take_counter(session.connection(), key)
        session.info[_COUNTER_TAKEN] = session.get_transaction()
    return case_numbers.make(prefix, day, value)


_COUNTER_TAKEN = "hotline_counter_taken"


def _may_take_apart(session: Any) -> bool:
    """Whether a transaction of its own can take a counter without waiting for this one: not
    when this one holds a counter row already (a second case in one transaction), nor, on
    SQLite, when it has written anything (it holds the database's write lock)."""
    if session.in_transaction() and session.info.get(_COUNTER_TAKEN) is session.get_transaction():
        return False
    return not _holds_sqlite_lock(session)


def _holds_sqlite_lock(session: Any) -> bool:
    """Whether this session's transaction has written to SQLite (and so holds its lock)."""
    return (db.engine.dialect.name == "sqlite" and session.in_transaction()
            and session.connection().connection.driver_connection.in_transaction)


@lru_cache(maxsize=2)
def _take_statement(dialect: str) -> Any:
    """The day's counter taken in one statement, made the first time (SQLite and PostgreSQL
    alike): built once, since building it at every case costs more CPU than running it."""
    table = CaseCounter.__table__
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(
        key=bindparam("counter"), value=1)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key], set_={"value": table.c.value + 1},
    ).returning(table.c.value)


def _take_counter(executor: Any, key: str) -> int:
    """The counter's next value, in `executor`'s transaction (a connection)."""
    return executor.execute(_take_statement(executor.dialect.name), {"counter": key}).scalar_one()


def find_line(code: str) -> Line:
    """The active line of this code (read from this process's copy: `hotline.reference`)."""
    line = reference.line(code)
    if line is None or not line.active:
        raise UnknownReference("unknown line", {"line": [f"No line {code!r}."]})
    return line


def check_line_phone(number: str | None, line: Line | None = None) -> None:
    """A line's phone number is its own: calls to it are the line's calls. Another line with
    the same number under any spelling (0851-86833668, +8685186833668) is a conflict."""
    if not number:
        return
    for other in db.session.scalars(select(Line).where(Line.phone_number.is_not(None))):
        if other is not line and phones.same(other.phone_number, number):
            raise Conflict(f"line {other.code!r} already has this phone number",
                           {"phone_number": [f"{number!r} is the number of line {other.code!r}."]})


def find_category(line: Line, code: str) -> Category:
    cat = reference.category(line.id, code)
    if cat is None:
        raise UnknownReference("unknown category for this line",
                               {"category": [f"Line {line.code!r} has no category {code!r}."]})
    return cat


def import_horizon(now: dt.datetime) -> dt.datetime:
    """The earliest `received_at` a case may be logged with: `IMPORT_HORIZON_YEARS` (default
    20) before now, at local midnight on the 1st of January."""
    from flask import current_app

    years = int(current_app.config.get("IMPORT_HORIZON_YEARS") or 20)
    year = max(local_date(now).year - years, FIRST_DAY.year)
    return dt.datetime(year, 1, 1, tzinfo=PROVINCE_TZ)


def create_case(data: dict[str, Any], actor: Actor, *, idempotency_key: str | None = None,
                now: dt.datetime | None = None, commit: bool = True) -> tuple[Case, bool]:
    """Log a case (intake). Returns (case, created); a replayed idempotency key returns the
    case it made the first time, and the same key with another body is a conflict."""
    now = now or utcnow()
    fingerprint = request_fingerprint(data) if idempotency_key else None
    if idempotency_key:
        existing = db.session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Conflict("this Idempotency-Key was used for a different request")
            return existing, False

    line = find_line(data["line"])
    category = find_category(line, data["category"]) if data.get("category") else None
    received_at = data.get("received_at") or now
    if received_at > now + dt.timedelta(minutes=5):  # a little clock skew between machines
        raise ValidationFailed("received_at is in the future",
                               {"received_at": ["Must not be in the future."]})
    horizon = import_horizon(now)
    if received_at < horizon:
        raise ValidationFailed("received_at is before the import horizon", {"received_at": [
            f"Must not be before {horizon:%Y-%m-%d} (HOTLINE_IMPORT_HORIZON_YEARS)."]})
    region = data.get("region")
    citizen = data.get("citizen") or {}
    kind = data.get("kind") or lifecycle.Kind.HANDLE
    priority = data.get("priority") or lifecycle.Priority.NORMAL
    case = Case(
        number=next_number(line.number_prefix, local_date(received_at)),
        line=line,
        channel=data["channel"],
        category=category,
        kind=kind,
        status=Status.RECEIVED,
        region=region,
        citizen_name=citizen.get("name"),
        citizen_phone=citizen.get("phone"),
        citizen_openid=citizen.get("openid"),
        citizen_enterprise=citizen.get("enterprise"),
        content=data["content"],
        public_consent=bool(data.get("public_consent", False)),
        received_at=received_at,
        created_at=now,
        deadline_base_at=received_at,
        extension_days=0,
        supervised=False,
        priority=priority,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        # A new case has none yet: known now, so the answer needs no query to say so, and the
        # report figures of a later step in the same transaction (an import, the demo's
        # history) are worked out from memory instead of read back.
        cohandlers=[],
        attachments=[],
        department_code=None,
        accepted_at=None,
        replied_at=None,
        duplicate_of_id=None,
    )
    apply_deadlines(case)
    db.session.add(case)
    bind_case(case.number)  # the rest of this request's log lines are about this case
    # One flush at commit: the handlers look things up, and each autoflush of a half-built case
    # would cost a round of UPDATEs (and a version number).
    with db.session.no_autoflush:
        _record(case, "create", actor, data.get("note"), None, case.status,
                {"line": line.code, "channel": case.channel}, at=now)
        if data.get("department"):
            # Logged and dispatched in one step (the operator chose the department, or took
            # routing's suggestion at the desk): routing then suggests but dispatches nothing.
            apply_action(case, "dispatch", actor, {"department": data["department"]}, now=now)
        # What follows intake (routing, …): hotline/wiring.py.
        publish(CaseCreated(case, actor, now))
    if not commit:
        _write_new(case)
        return case, True
    try:
        # The key's UNIQUE constraint is met at this flush (or at the commit): a retry that
        # raced this one, with the same key, got there first.
        _write_new(case)
        commit_keeping_loaded()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key:
            # The first one's case is the answer for both.
            existing = db.session.scalar(
                select(Case).where(Case.idempotency_key == idempotency_key))
            if existing is not None:
                if existing.request_hash == fingerprint:
                    return existing, False
                raise Conflict("this Idempotency-Key was used for a different request") \
                    from None
        raise
    return case, True


def replayed_case(idempotency_key: str | None, data: dict[str, Any]) -> Case:
    """After two retries with one idempotency key raced (the loser's commit failed and was
    rolled back): the first one's case is the answer for both, if it was the same request."""
    existing = db.session.scalar(
        select(Case).where(Case.idempotency_key == idempotency_key)) if idempotency_key else None
    if existing is not None and existing.request_hash == request_fingerprint(data):
        return existing
    raise Conflict("this Idempotency-Key was used for a different request")


def _write_new(case: Case) -> None:
    """Write the new case and what intake made with it: its rows in one go
    (`new_rows.write_new_case`), or by a flush when the session holds anything else."""
    session = db.session()
    if not new_rows.write_new_case(session, case):
        session.flush()


def _record(case: Case, action: str, actor: Actor, note: str | None, from_status: str | None,
            to_status: str | None, data: dict | None, at: dt.datetime | None = None) -> CaseEvent:
    event = CaseEvent(action=action, actor=actor.name, actor_role=actor.role,
                      at=at or utcnow(), note=note, from_status=from_status,
                      to_status=to_status, data=data or None)
    case.events.append(event)
    return event


def record_event(case: Case, action: str, actor: Actor, note: str | None = None,
                 data: dict | None = None, at: dt.datetime | None = None) -> CaseEvent:
    """Add a step that changes no status (a reminder, a call joined to the case) to the timeline."""
    return _record(case, action, actor, note, case.status, case.status, data, at=at)


def get_case(number: str, actor: Actor | None = None) -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or (actor is not None and not lifecycle.may_see(actor, case)):
        # A handler asking for another department's case learns nothing, not even that it exists.
        raise NotFound(f"no case {number}")
    return case


def duplicate_seen_by(case: Case, actor: Actor | None) -> Case | None:
    """The earlier case this one seems to repeat (疑似重复件), if `actor` may see that case: a
    handler learns nothing of another department's case, not even its number."""
    other = case.duplicate_of
    if other is None or actor is None or lifecycle.may_see(actor, other):
        return other
    return None


def merged_into_seen_by(case: Case, actor: Actor | None) -> Case | None:
    """The lead case this one was merged into (并单), if `actor` may see it."""
    lead = case.merged_into
    if lead is None or actor is None or lifecycle.may_see(actor, lead):
        return lead
    return None


def merged_cases(lead: Case) -> list[Case]:
    """The cases merged into `lead` (并单), oldest first, whether still following it or closed
    with its answer."""
    return list(db.session.scalars(
        select(Case).where(Case.merged_into_id == lead.id).order_by(Case.id)))


# Steps whose data names another case (`of`): routing's duplicate link, a case merged in (并单).
NAMING_STEPS = ("duplicate", "merged_in")


def timeline_seen_by(case: Case, actor: Actor | None) -> list[CaseEvent]:
    """The case's timeline as `actor` may read it: a step naming another case (routing's
    "疑似重复件：与 … 内容相近") is left out when that case is hidden from them."""
    if actor is None or actor.role != lifecycle.Role.HANDLER:
        return list(case.events)
    named = {e.data["of"] for e in case.events
             if e.action in NAMING_STEPS and isinstance(e.data, dict) and e.data.get("of")}
    if not named:
        return list(case.events)
    departments = {number: department for number, department in db.session.execute(
        select(Case.number, Case.department_code).where(Case.number.in_(named)))}
    hidden = {n for n in named
              if n not in departments or not lifecycle.can_see(actor, departments[n])}
    return [e for e in case.events if not (e.action in NAMING_STEPS and isinstance(e.data, dict)
                                          and e.data.get("of") in hidden)]


def apply_action(case: Case, action: str, actor: Actor, body: dict[str, Any],
                 now: dt.datetime | None = None) -> lifecycle.Event:
    """Check and apply one lifecycle action and put it on the timeline, in the caller's
    transaction (no commit). Used by `act` and by automatic steps such as routing's dispatch."""
    now = now or utcnow()
    calendar_holder: dict[str, WorkCalendar] = {}

    def deadlines(c: Case) -> Deadlines:
        calendar_holder.setdefault("cal", work_calendar())
        return deadlines_for(c, calendar_holder["cal"])

    def department_exists(code: str) -> bool:
        dep = reference.department(code)
        return dep is not None and dep.active

    def find_case(number: str) -> Case | None:
        other = db.session.scalar(select(Case).where(Case.number == number))
        return other if other is not None and lifecycle.may_see(actor, other) else None

    def handler_of(department: str, name: str) -> bool:
        return db.session.scalar(select(User.id).where(
            User.name == name, User.role == lifecycle.Role.HANDLER,
            User.department_code == department, User.active.is_(True))) is not None

    calendar_holder.setdefault("cal", work_calendar())
    ctx = Context(now=now, deadlines=deadlines, department_exists=department_exists,
                  find_case=find_case, new_cohandler=CaseCohandler,
                  calendar=calendar_holder["cal"], handler_of=handler_of)
    event = lifecycle.perform(action, case, actor, body, ctx)
    _record(case, event.action, actor, event.note, event.from_status, event.to_status,
            event.data, at=now)
    # What follows a step (the citizen told, the survey, …): hotline/wiring.py.
    publish(ActionTaken(case, event, actor, now))
    if event.action == "merge":
        _merged(case, actor, now)
    if event.to_status == Status.CLOSED and event.from_status != Status.CLOSED:
        close_merged_cases(case, now)
    return event


def _merged(case: Case, actor: Actor, now: dt.datetime) -> None:
    """After a merge (并单): the lead's timeline names the case merged in, and the cases merged
    into this one before follow it to its lead (a lead is never merged itself)."""
    lead = case.merged_into
    _record(lead, "merged_in", actor, None, lead.status, lead.status, {"of": case.number},
            at=now)
    for follower in merged_cases(case):
        if follower.status != Status.MERGED:
            continue
        follower.merged_into = lead
        _record(follower, "merge", actor, None, follower.status, follower.status,
                {"into": lead.number, "via": case.number}, at=now)
        _record(lead, "merged_in", actor, None, lead.status, lead.status,
                {"of": follower.number}, at=now)


def close_merged_cases(lead: Case, now: dt.datetime | None = None) -> list[Case]:
    """The lead case is closed: every case merged into it and still following it is closed
    with the lead's answer, and its citizen told and surveyed (what follows a closing), in the
    caller's transaction."""
    now = now or utcnow()
    closed = []
    for follower in merged_cases(lead):
        if follower.status != Status.MERGED:
            continue
        event = lifecycle.follow_lead(follower, lead, now)
        _record(follower, event.action, SYSTEM, event.note, event.from_status, event.to_status,
                event.data, at=now)
        publish(ActionTaken(follower, event, SYSTEM, now))
        closed.append(follower)
    return closed


# Actions whose body may come with files (checked uploads, `attachments.read_uploads`).
FILE_ACTIONS = frozenset({"reply"})


def act(number: str, action: str, actor: Actor, body: dict[str, Any],
        now: dt.datetime | None = None, uploads: list[attachments.Upload] = ()) -> Case:
    """Perform one lifecycle action, record it on the timeline and commit, or change nothing.

    A reply may carry files: they are stored and put on the timeline with it, in the same
    transaction (and removed from the disk when it fails)."""
    case = get_case(number, actor)
    check_version(case, body.get("version"))
    if uploads and action not in FILE_ACTIONS:
        raise ValidationFailed(f"'{action}' takes no files",
                               {"attachments": [f"Only {', '.join(FILE_ACTIONS)} takes files."]})
    written: list = []
    try:
        with committing():
            apply_action(case, action, actor, body, now)
            written = attachments.store(
                case, list(uploads), actor, data={"for": action},
                url=lambda item: f"/api/v1/cases/{case.number}/attachments/{item.id}")
    except Exception:
        attachments.remove(written)
        raise
    return case


def check_version(case: Case, expected: int | None) -> None:
    """Refuse a change made on an old copy of the case: someone else changed it since."""
    if expected is not None and expected != case.version:
        raise StaleVersion(
            f"the case changed since you read it (version {expected}, now {case.version})",
            {"version": [f"Current version is {case.version}."]})


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: the new case is answered as it was
    just written, with no reads of it, its line, category and timeline after the commit
    (intake's response; nothing else writes the case in between)."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


@contextmanager
def committing() -> Iterator[None]:
    """Commit what the block did, or roll all of it back; a concurrent change of the same case
    (optimistic lock) is a 409 the caller can act on."""
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleVersion("the case was changed by someone else at the same time; reload it") \
            from None
    except Exception:
        db.session.rollback()
        raise


def set_calendar_year(year: int, holidays: list[dt.date], workdays: list[dt.date],
                      actor: Actor) -> int:
    """Set a year's schedule and recount the deadlines of open cases that depend on it.

    Returns how many cases got new deadlines.
    """
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        db.session.add(row)
    row.holidays = sorted(d.isoformat() for d in set(holidays))
    row.workdays = sorted(d.isoformat() for d in set(workdays))
    row.updated_by = actor.name
    db.session.flush()
    forget_calendar()
    calendar = work_calendar()
    # Open cases whose deadline window reaches into that year may count differently now.
    start = dt.datetime(year - 1, 11, 1, tzinfo=dt.UTC)
    changed = 0
    open_cases = db.session.scalars(
        select(Case).where(Case.status != Status.CLOSED, Case.due_at >= start))
    for case in open_cases:
        before = (case.accept_due_date, case.due_date, case.deadline_provisional)
        apply_deadlines(case, calendar)
        after = (case.accept_due_date, case.due_date, case.deadline_provisional)
        if before != after:
            changed += 1
            record_event(case, "deadline", actor, f"{year} 年工作日安排更新",
                         {"due_date": case.due_date.isoformat(),
                          "previous_due_date": before[1].isoformat() if before[1] else None})
    db.session.commit()
    forget_calendar()  # also after the commit: a reader in between may have cached the old one
    return changed


def correct_case(number: str, actor: Actor, changes: dict[str, Any],
                 now: dt.datetime | None = None) -> tuple[Case, list[str]]:
    """Correct what intake recorded — category, topic, region, the citizen's name, phone and
    enterprise, the content — and put old and new values on the timeline (`correct`), or change
    nothing. Returns (case, names of the fields that changed).

    Only staff in `lifecycle.CORRECTORS` may; `changes["version"]` is the version they read. A
    new category may have its own time limits, so an open case's deadlines are recounted. The
    step's data keeps, beside the changes, what routing suggested and what the case is now
    (topic, category, region, department): labels for checking and training routing later.
    """
    now = now or utcnow()
    case = get_case(number, actor)
    if not lifecycle.may_correct(actor, case):
        roles = ", ".join(sorted(lifecycle.CORRECTORS))
        raise Forbidden(f"corrections are for {roles}; you are {actor.role}")
    check_version(case, changes.get("version"))
    wanted: dict[str, Any] = {}
    if "category" in changes:
        code = changes["category"]
        wanted["category"] = find_category(case.line, code) if code else None
    if "region" in changes:
        wanted["region"] = changes["region"]
    if "topic" in changes:
        # "城乡建设/住房保障" (checked against the taxonomy by the schema) or None
        levels = (changes["topic"] or "").split("/")
        levels += [""] * (3 - len(levels))
        for i, level in enumerate(levels[:3], start=1):
            wanted[f"topic{i}"] = level or None
    for key, value in (changes.get("citizen") or {}).items():
        # The phone as it will be stored: the same number typed another way is no change.
        wanted[f"citizen_{key}"] = phones.stored(value) if key == "phone" else value
    if "content" in changes:
        wanted["content"] = changes["content"]

    def shown(field: str, value: Any) -> Any:
        return value.code if field == "category" and value is not None else value

    diffs = {field: {"old": shown(field, getattr(case, field)), "new": shown(field, value)}
             for field, value in wanted.items() if getattr(case, field) != value}
    if any(f"topic{i}" in diffs for i in (1, 2, 3)):
        # One change on the timeline for the topic, as staff read it: old path → new path.
        new_topic = "/".join(wanted[f"topic{i}"] for i in (1, 2, 3) if wanted[f"topic{i}"])
        diffs = {k: v for k, v in diffs.items() if not k.startswith("topic")}
        diffs["topic"] = {"old": case.topic, "new": new_topic or None}
    if not diffs:
        return case, []
    with committing():
        for field, value in wanted.items():
            setattr(case, field, value)
        data: dict[str, Any] = {"changes": diffs}
        if "category" in diffs and case.status in lifecycle.OPEN_STATUSES:
            before = case.due_date
            apply_deadlines(case)
            if case.due_date != before:
                data["due_date"] = case.due_date.isoformat() if case.due_date else None
                data["previous_due_date"] = before.isoformat() if before else None
        suggested = case.routing or {}
        data["labels"] = {
            "topic": {"suggested": suggested.get("topic"),
                      "now": [t for t in (case.topic1, case.topic2, case.topic3) if t]},
            "category": {"suggested": suggested.get("category"),
                         "now": case.category.code if case.category else None},
            "region": {"suggested": suggested.get("region"), "now": case.region},
            "department": {"suggested": suggested.get("department"),
                           "now": case.department_code},
        }
        record_event(case, "correct", actor, changes.get("note"), data, at=now)
    return case, list(diffs)
