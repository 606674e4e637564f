"""Publication on the public message board (公开): the rules of candidates, masked drafts,
edits, approval, withdrawal — and the reopen rule (a reopened case leaves the board).

A case reaches the board only when it is closed, its writer consented ("是否愿意公开") and a
supervisor approved the published version. The draft is proposed by masking personal data in
the case's content and answer (`hotline.masking`, with the citizen's name as a known name);
staff edit it, then approve or withdraw it. The case keeps its original text; every draft, edit,
approval and withdrawal is an event on the case's timeline, with the texts before and after.

The staff API (`hotline.api.publication`), the console's pages (`hotline.console.publications`),
the public board (`channels.web`), Open311 and the demo history call these; each use case works
in the caller's transaction and `commit` ends it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import services
from .domain.deadlines import PROVINCE_TZ
from .domain.errors import Conflict, DomainError, IllegalTransition, StaleVersion
from .domain.lifecycle import CENTRE, Actor, Role, Status
from .events import ActionTaken
from .extensions import db
from .masking import Masked, find_personal_data
from .models import Case, Line, Publication, PublicationState
from .models.types import utcnow

EDITORS = CENTRE
APPROVERS = (Role.SUPERVISOR,)
TITLE_MAX = 60
TEXT_FIELDS = ("title", "question", "answer")
STATES = ("candidate", "draft", "approved", "withdrawn")



class PersonalDataLeft(DomainError):
    """The text to publish still holds what looks like personal data."""

    status = 422
    code = "personal_data_left"


# --- what is proposed ----------------------------------------------------------------------

def known_names(case: Case) -> list[str]:
    """Names the case itself records: masked wherever they appear, whatever the context."""
    return [case.citizen_name.strip()] if case.citizen_name and case.citizen_name.strip() else []


def case_answer(case: Case) -> str | None:
    """The answer the citizen got: the department's reply, or the operator's on-the-spot one."""
    return case.reply_text or case.answer_text


def mask_case_text(case: Case, text: str | None) -> str:
    """`text` of this case with personal data masked (the citizen's name as a known name)."""
    if not text:
        return ""
    return services.mask_text(text, known_names(case))


def find_in_case_text(case: Case, text: str | None) -> list[Masked]:
    if not text:
        return []
    return find_personal_data(text, known_names(case), public_numbers=services.public_numbers())


_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def _split_title(text: str) -> tuple[str | None, str]:
    """(title, body) when the writer gave a title — the web form stores it as the first line —
    else (None, text)."""
    first_line, _, rest = text.strip().partition("\n")
    first_line = first_line.strip()
    if rest.strip() and 0 < len(first_line) <= 40 and not first_line.endswith("。") and \
            not _SENTENCE_END.search(first_line[:-1]):
        return first_line, rest.strip()
    return None, text.strip()


def propose_title(question: str) -> str:
    """A short title from the (masked) question: its first sentence, shortened."""
    candidate = _SENTENCE_END.split(question.strip(), maxsplit=1)[0].strip()
    candidate = candidate.strip("，,：: ")
    if len(candidate) > 30:
        candidate = candidate[:28].rstrip("，,、 ") + "…"
    return candidate or "群众留言"


def propose(case: Case) -> dict[str, str]:
    masked = mask_case_text(case, case.content)
    given, body = _split_title(masked) if case.channel == "web" else (None, masked)
    # A web writer's title becomes the published title; the question is the letter itself.
    return {"title": given or propose_title(masked), "question": body,
            "answer": mask_case_text(case, case_answer(case))}


def problems(case: Case) -> list[str]:
    """Why a case cannot be published now (empty: it can)."""
    out = []
    if case.status != Status.CLOSED:
        out.append("案件尚未办结 (the case is not closed)")
    if not case.public_consent:
        out.append("来信人未同意公开 (the writer did not consent to publication)")
    if not case_answer(case):
        out.append("案件没有答复 (the case has no answer)")
    return out


def remaining(case: Case, texts: dict[str, str]) -> dict[str, list[dict]]:
    """Personal data masking still finds in the texts about to be published."""
    out = {}
    for name in TEXT_FIELDS:
        found = find_in_case_text(case, texts.get(name))
        if found:
            out[name] = [_finding(m) for m in found]
    return out


def _finding(m: Masked) -> dict:
    return {"kind": m.kind, "start": m.start, "end": m.end, "original": m.original,
            "replacement": m.replacement}


# --- use cases -----------------------------------------------------------------------------

def publication_of(case: Case) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.case_id == case.id))


def _require_publishable(case: Case) -> None:
    found = problems(case)
    if found:
        raise IllegalTransition("cannot publish this case: " + "; ".join(found))


def _check_version(pub: Publication | None, expected: int | None) -> None:
    if expected is None:
        return
    current = pub.version if pub is not None else 0
    if expected != current:
        raise StaleVersion(
            f"the publication changed since you read it (version {expected}, now {current})",
            {"version": [f"Current version is {current}."]})


def _new_draft(case: Case, actor: Actor, now: dt.datetime | None = None) -> Publication:
    now = now or utcnow()
    proposal = propose(case)
    pub = Publication(case=case, case_id=case.id, state=PublicationState.DRAFT,
                      source_hash=Publication.source_digest(case.content, case_answer(case)),
                      created_by=actor.name, updated_by=actor.name, created_at=now,
                      updated_at=now, **proposal)
    db.session.add(pub)
    services.record_event(case, "publication_draft", actor, "按脱敏规则生成公开稿",
                          {"proposed": proposal}, at=now)
    return pub


def save_draft(case: Case, changes: dict[str, str], actor: Actor, note: str | None = None,
               version: int | None = None) -> Publication:
    """Edit the published version (no commit). Editing an approved one takes it off the board
    until it is approved again: what the public sees has always been approved as it is."""
    _require_publishable(case)
    pub = publication_of(case)
    _check_version(pub, version)
    if pub is None:
        pub = _new_draft(case, actor)
    diff = {name: {"before": getattr(pub, name), "after": value}
            for name, value in changes.items() if getattr(pub, name) != value}
    if not diff:
        return pub
    for name, change in diff.items():
        setattr(pub, name, change["after"])
    pub.updated_by = actor.name
    data: dict[str, Any] = {"changes": diff}
    if pub.state == PublicationState.APPROVED:
        pub.state = PublicationState.DRAFT
        data["unpublished"] = True
        note = (note + "；" if note else "") + "修改后撤下，待重新审核公开"
    services.record_event(case, "publication_edit", actor, note, data)
    return pub


def approve(case: Case, actor: Actor, note: str | None = None, version: int | None = None,
            confirm_remaining: bool = False, now: dt.datetime | None = None) -> Publication:
    """Put the case on the board at `now` (no commit). Refused while masking still finds
    personal data in the texts, unless the approver confirms that what it found is not
    personal."""
    now = now or utcnow()
    _require_publishable(case)
    pub = publication_of(case)
    _check_version(pub, version)
    if pub is None:
        pub = _new_draft(case, actor, now)
    texts = {name: getattr(pub, name) for name in TEXT_FIELDS}
    left = remaining(case, texts)
    if left and not confirm_remaining:
        kinds = sorted({f["kind"] for items in left.values() for f in items})
        raise PersonalDataLeft(
            "the text still looks like it holds personal data (" + ", ".join(kinds) + "); mask "
            "it, or approve with confirm_remaining=true if it is not personal", left)
    pub.state = PublicationState.APPROVED
    pub.updated_at = pub.approved_at = now
    pub.approved_by = actor.name
    pub.published_at = pub.published_at or now
    pub.withdrawn_at = pub.withdrawn_by = pub.withdraw_reason = None
    pub.updated_by = actor.name
    data: dict[str, Any] = dict(texts)
    if left:
        data["confirmed_findings"] = left
    services.record_event(case, "publication_approve", actor, note, data, at=now)
    return pub


def withdraw(case: Case, actor: Actor, reason: str, version: int | None = None) -> Publication:
    """Take the case off the board (no commit); the draft stays for a later approval."""
    pub = publication_of(case)
    if pub is None or pub.state != PublicationState.APPROVED:
        raise IllegalTransition("this case is not on the board")
    _check_version(pub, version)
    pub.state = PublicationState.WITHDRAWN
    pub.withdrawn_at = utcnow()
    pub.withdrawn_by = actor.name
    pub.withdraw_reason = reason
    pub.updated_by = actor.name
    services.record_event(case, "publication_withdraw", actor, reason, None)
    return pub


def after_action(event: ActionTaken) -> None:
    """A reopened case (重办) leaves the board: only closed cases are published. Its draft goes
    back to the work list, to be checked against the new answer once the case is closed."""
    case, actor = event.case, event.actor
    if event.step.to_status != Status.REOPENED:
        return
    pub = publication_of(case)
    if pub is None or pub.state != PublicationState.APPROVED:
        return
    pub.state = PublicationState.DRAFT
    pub.updated_by = actor.name
    services.record_event(case, "publication_withdraw", actor, "案件重办，暂停公开",
                          {"automatic": True}, at=event.at)


def work_list(state: str = "candidate", line: str | None = None) -> Select:
    """(case, publication) rows of the work list, newest closing first: `candidate` — closed,
    consented cases not on the board (no draft yet, or a draft waiting for approval) — or the
    publications in `state` (draft, approved, withdrawn)."""
    query = select(Case, Publication).outerjoin(Publication, Publication.case_id == Case.id)
    if state == "candidate":
        query = query.where(Case.status == Status.CLOSED, Case.public_consent.is_(True),
                            or_(Publication.id.is_(None),
                                Publication.state == PublicationState.DRAFT))
    else:
        query = query.where(Publication.state == state)
    if line:
        query = query.join(Line, Case.line_id == Line.id).where(Line.code == line)
    return query.order_by(Case.closed_at.desc(), Case.id.desc())


def commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleVersion("the publication was changed by someone else at the same time; "
                           "reload it") from None
    except IntegrityError:
        db.session.rollback()
        raise Conflict("a draft of this publication was just created by someone else; "
                       "reload it") from None


# --- what the editor sees -----------------------------------------------------------------

def local_iso(value: dt.datetime | None) -> str | None:
    """An instant as the province's local time, ISO 8601 (None stays None)."""
    return value.astimezone(PROVINCE_TZ).isoformat() if value else None


def publication_json(case: Case, pub: Publication | None) -> dict:
    proposal = propose(case)
    current = {name: getattr(pub, name) for name in TEXT_FIELDS} if pub else proposal
    original_answer = case_answer(case)
    return {
        "number": case.number,
        "state": pub.state if pub else "none",
        "publishable": not problems(case),
        "problems": problems(case),
        **current,
        "proposed": proposal,
        "original": {"content": case.content, "answer": original_answer},
        "findings": {
            "question": [_finding(m) for m in find_in_case_text(case, case.content)],
            "answer": [_finding(m) for m in find_in_case_text(case, original_answer)],
        },
        "remaining": remaining(case, current),
        "source_changed": bool(pub) and pub.source_hash != Publication.source_digest(
            case.content, original_answer),
        "case": {"status": case.status, "public_consent": case.public_consent,
                 "line": case.line.code,
                 "category": case.category.code if case.category else None,
                 "department": case.department_code, "region": case.region,
                 "topic": case.topic, "closed_at": local_iso(case.closed_at)},
        "version": pub.version if pub else 0,
        "created_at": local_iso(pub.created_at) if pub else None,
        "created_by": pub.created_by if pub else None,
        "updated_at": local_iso(pub.updated_at) if pub else None,
        "updated_by": pub.updated_by if pub else None,
        "approved_at": local_iso(pub.approved_at) if pub else None,
        "approved_by": pub.approved_by if pub else None,
        "published_at": local_iso(pub.published_at) if pub else None,
        "withdrawn_at": local_iso(pub.withdrawn_at) if pub else None,
        "withdraw_reason": pub.withdraw_reason if pub else None,
        "url": f"/board/{case.number}" if pub and pub.state == PublicationState.APPROVED
        else None,
    }
