"""Filing what an operator heard on the phone (登记建档): a new case or, for a caller who rings
about a case already open, the call joined to it; answered on the spot (即时答复) when the
operator could. One transaction: a refusal changes nothing.

The API's `POST /api/v1/calls/<CallSid>/case` and the operator's desk in the console both file
through `log_call` (a Twilio call the operator answered) or `file_case` (a case typed at the
desk without a call record).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import services
from .domain.errors import Conflict
from .domain.lifecycle import Actor, Kind
from .extensions import db
from .models import Call, Case
from .models.calls import Outcome, Stage, callable_number
from .models.types import utcnow


def join_case(call: Call, case: Case, actor: Actor, note: str | None = None,
              data: dict[str, Any] | None = None) -> None:
    """Make the call part of `case` (一案一号一档): the link, a `call` step on the timeline and
    the recording among the attachments. No commit."""
    call.case = case
    call.logged_by = actor.name
    call.logged_at = utcnow()
    services.record_event(case, "call", actor, note, {**call.timeline_data(), **(data or {})})
    call.attach_recording()


def find_call(call_sid: str) -> Call | None:
    return db.session.scalar(select(Call).where(Call.call_sid == call_sid))


def log_call(call: Call, data: dict[str, Any], actor: Actor,
             idempotency_key: str | None = None) -> tuple[Case, bool]:
    """File an answered call: its record joins a new case or the existing case `data["case"]`,
    answered on the spot with `data["answer"]`. Returns (case, created). Commits.

    A call belongs to one case: filing it again is fine when it names that same case (or
    replays the idempotency key that made it); anything else is a conflict.
    """
    if call.case is not None:
        same = data.get("case") == call.case.number
        if not same and idempotency_key:
            earlier = db.session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
            same = earlier is not None and earlier.id == call.case_id
        if not same:
            raise Conflict(f"call {call.call_sid} is already part of case {call.case.number}",
                           {"case": [call.case.number]})
        return call.case, False
    extra = {"knowledge_case": data["knowledge_case"]} if data.get("knowledge_case") else None
    new = None if "case" in data else new_case_of_call(call, data)
    try:
        with services.committing():
            if new is None:
                case = services.get_case(data["case"], actor)
                created = False
            else:
                case, created = services.create_case(new, actor, idempotency_key=idempotency_key,
                                                     commit=False)
            if call.outcome is None:
                # The operator is talking to the caller: answered, whatever the webhooks said.
                call.outcome = Outcome.ANSWERED
                call.answered_at = call.answered_at or utcnow()
                if call.stage != Stage.ENDED:
                    call.stage = Stage.CONNECTED
            join_case(call, case, actor, data.get("note"), extra)
            if data.get("answer"):
                services.apply_action(case, "answer", actor,
                                      {"text": data["answer"], "note": data.get("note")})
    except IntegrityError:
        if new is None:
            raise
        # A double submit raced this one with the same key: the first one's case is the answer.
        return services.replayed_case(idempotency_key, new), False
    return case, created


def new_case_of_call(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """The intake data of a new case from a call and what the operator typed."""
    citizen = dict(data.get("citizen") or {})
    if not citizen.get("phone"):
        citizen["phone"] = callable_number(call.from_number)
    # Answered on the phone is 即时答复 whatever kind was sent: the answer makes it one anyway.
    kind = Kind.INSTANT.value if data.get("answer") else data.get("kind") or Kind.HANDLE.value
    new = {"line": call.line.code, "channel": "phone", "content": data["content"].strip(),
           "category": data.get("category"), "kind": kind, "citizen": citizen,
           "region": data.get("region"), "public_consent": data.get("public_consent", False),
           # Deadlines count from the call, not from when the operator finished typing.
           "received_at": min(call.started_at, utcnow())}
    if data.get("department") and not data.get("answer"):
        new["department"] = data["department"]
    if data.get("note"):
        new["note"] = data["note"]
    return new


def file_case(data: dict[str, Any], actor: Actor, *, answer: str | None = None,
              knowledge_case: str | None = None,
              idempotency_key: str | None = None) -> tuple[Case, bool]:
    """File a case typed at the desk (intake data as for `services.create_case`), answered on
    the spot with `answer`. Returns (case, created); a replayed key returns the first case."""
    if answer:
        data = {**data, "kind": Kind.INSTANT.value}
        data.pop("department", None)
    try:
        with services.committing():
            case, created = services.create_case(data, actor, idempotency_key=idempotency_key,
                                                 commit=False)
            if created and answer:
                note = f"参考已答工单 {knowledge_case}" if knowledge_case else None
                services.apply_action(case, "answer", actor, {"text": answer, "note": note})
    except IntegrityError:
        # A double submit raced this one with the same key: the first one's case is the answer.
        return services.replayed_case(idempotency_key, data), False
    return case, created
