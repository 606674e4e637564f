"""What the public sees: the board of published cases, and a citizen's own case found by its
number and the last four digits of the phone (or, once a number's look-ups failed too often,
the whole phone: `find_own_case`). Used by the HTML pages, the public JSON API and
the Open311 channel, so that all three show the same thing.

Only approved publications are on the board, and the board shows only their masked texts:
searching it never touches a case's original content, so a search for a person's name cannot
tell which case they wrote.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hotline.domain import case_numbers, names, phones
from hotline.domain.deadlines import PROVINCE_TZ, end_of_day, local_date
from hotline.domain.errors import DomainError
from hotline.domain.lifecycle import ANSWER_GIVEN, Status
from hotline.extensions import db
from hotline.models import Case, Category, Department, Line, Publication, PublicationState
from hotline.publication import case_answer, mask_case_text, publication_of
from hotline.regions import region_name
from hotline.reports.scope import region_prefix

from .security import count_failed_lookup, tail_guarded

CHANNEL_LABELS = {"phone": "电话", "wechat": "微信公众号", "web": "网站留言", "sms": "短信",
                  "open311": "合作平台"}

PHONE_TAIL = re.compile(r"^\d{4}$")
WHOLE_PHONE = phones.WHOLE


def status_label(status: str) -> str:
    return names.citizen_status(status)


def normalize_number(text: str) -> str:
    """ZT20261123-0001 however it was typed (`case_numbers.canonical`), else the text as given
    (then no case has it)."""
    return case_numbers.canonical(text) or (text or "").strip()


def normalize_tail(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def local_day(value: dt.datetime | None) -> str | None:
    return local_date(value).isoformat() if value else None


def local_instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(PROVINCE_TZ).isoformat() if value else None


def _department_names() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


# --- the board -----------------------------------------------------------------------------

@dataclass
class BoardFilters:
    """What a visitor narrowed the board to; every field optional."""

    q: str | None = None
    line: str | None = None
    category: str | None = None
    topic: str | None = None
    region: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1
    per_page: int = 10


def board_query(f: BoardFilters) -> Select:
    query = (select(Publication).join(Case, Publication.case_id == Case.id)
             .where(Publication.state == PublicationState.APPROVED))
    if f.line:
        query = query.join(Line, Case.line_id == Line.id).where(Line.code == f.line)
    if f.category:
        query = query.join(Category, Case.category_id == Category.id).where(
            Category.code == f.category)
    if f.topic:
        query = query.where(or_(Case.topic1 == f.topic, Case.topic2 == f.topic,
                                Case.topic3 == f.topic))
    if f.region:
        query = query.where(Case.region.startswith(region_prefix(f.region)))
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time(), tzinfo=PROVINCE_TZ)
        query = query.where(Case.received_at >= start)
    if f.date_to:
        query = query.where(Case.received_at <= end_of_day(f.date_to))
    for word in (f.q or "").split()[:8]:
        # Only the published (masked) texts are searched, never the case's original.
        query = query.where(or_(Publication.title.contains(word, autoescape=True),
                                Publication.question.contains(word, autoescape=True),
                                Publication.answer.contains(word, autoescape=True),
                                Case.number == word.upper()))
    return query


# A published case is shown with its line, category and department: load them with it.
_WITH_CASE = (joinedload(Publication.case).joinedload(Case.line),
              joinedload(Publication.case).joinedload(Case.category))


def board_page(f: BoardFilters) -> dict[str, Any]:
    query = board_query(f)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(*_WITH_CASE)
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .offset((f.page - 1) * f.per_page).limit(f.per_page)).all()
    names = _department_names()
    return {"items": [published_view(p, names) for p in rows], "page": f.page,
            "per_page": f.per_page, "total": total,
            "pages": max(1, math.ceil(total / f.per_page))}


def published(number: str) -> Publication | None:
    """The approved publication of a case, or None (not published, or no such case)."""
    return db.session.scalar(
        select(Publication).join(Case, Publication.case_id == Case.id)
        .where(Case.number == normalize_number(number),
               Publication.state == PublicationState.APPROVED).options(*_WITH_CASE))


def published_view(pub: Publication, department_names: dict[str, str] | None = None
                   ) -> dict[str, Any]:
    """A published case as the board shows it: approved texts and facts that name no one."""
    case = pub.case
    names = department_names if department_names is not None else _department_names()
    return {
        "number": case.number,
        "title": pub.title,
        "question": pub.question,
        "answer": pub.answer,
        "line": case.line.code,
        "line_name": case.line.name,
        "category": case.category.code if case.category else None,
        "category_name": case.category.name if case.category else None,
        "topic": case.topic,
        "region": case.region,
        "region_name": region_name(case.region),
        "department": case.department_code,
        "department_name": names.get(case.department_code or "") if case.department_code
        else "热线服务中心",
        "status": case.status,
        "status_label": status_label(case.status),
        "received_date": local_day(case.received_at),
        "answered_date": local_day(case.replied_at or case.closed_at),
        "closed_date": local_day(case.closed_at),
        "published_at": local_instant(pub.published_at),
        "url": f"/board/{case.number}",
    }


def board_topics() -> list[str]:
    """First-level topics that have published cases, for the topic filter."""
    rows = db.session.scalars(
        select(Case.topic1).join(Publication, Publication.case_id == Case.id)
        .where(Publication.state == PublicationState.APPROVED, Case.topic1.is_not(None))
        .distinct().order_by(Case.topic1))
    return [t for t in rows if t]


LINES_TTL = 30.0  # seconds: an admin's new category shows on the pages within half a minute


def lines_with_categories() -> list[dict[str, Any]]:
    """Active lines and their categories. Every page lists them and they change a few times a
    year, so each process keeps them for LINES_TTL seconds."""
    if "web_lines" not in g:
        cache = current_app.extensions.setdefault("hotline_web_lines", {})
        now = time.monotonic()
        if not cache or now - cache["at"] > LINES_TTL or current_app.testing:
            cache.update(at=now, lines=_lines_with_categories())
        g.web_lines = cache["lines"]
    return g.web_lines


def _lines_with_categories() -> list[dict[str, Any]]:
    lines = db.session.scalars(
        select(Line).where(Line.active.is_(True)).options(selectinload(Line.categories))
        .order_by((Line.code != "board"), Line.id))  # the message board first: the web's own
    return [{"code": line.code, "name": line.name, "phone_number": line.phone_number,
             "hours": line.hours,
             "categories": [{"code": c.code, "name": c.name} for c in line.categories]}
            for line in lines]


# --- a citizen's own case ------------------------------------------------------------------

class PhoneRequired(DomainError):
    """The number's look-ups failed too often lately: the whole phone number is needed."""

    status = 403
    code = "phone_required"


PHONE_REQUIRED = ("这个工单编号近期查询失败次数较多，为保护您的信息，请填写留言或来电时所留的"
                  "完整电话号码。")


def find_own_case(number: str, phone_tail: str | None = None,
                  phone: str | None = None) -> Case | None:
    """The citizen's own case by its number and the last four digits of the phone, or the whole
    phone number; None when they do not match (or there is no such case).

    Four digits are a weak proof, so failures are counted per case number from whatever address
    they come; once a number has failed too often lately (`security.tail_guarded`) the four
    digits alone raise PhoneRequired — whether they are right or not, and whether the case
    exists or not — and only the whole phone number opens it. A stranger's guesses thus never
    lock the citizen out, and the 10,000 tails cannot be walked through.
    """
    number = normalize_number(number)
    if not case_numbers.NUMBER.match(number):
        return None  # never a case's number: nothing to look up or to count
    if phone:
        case = lookup(number, phone=phone)
    elif tail_guarded(number):
        raise PhoneRequired(PHONE_REQUIRED, {"phone": ["请填写完整电话号码。"]})
    else:
        case = lookup(number, phone_tail or "")
    if case is None:
        count_failed_lookup(number)
    return case


def lookup(number: str, phone_tail: str = "", *, phone: str | None = None) -> Case | None:
    """The case with this number whose phone ends in `phone_tail` (or is `phone`), else None.

    A wrong tail and a number that does not exist take the same path: one query by number and
    one constant-time comparison, so neither the answer nor its timing says which it was.
    """
    number = normalize_number(number)
    if phone is not None:
        given, expected = phones.key(phone), phones.key
    else:
        given, expected = normalize_tail(phone_tail), _tail
    # Two columns, not the whole case: a row found and a row missing cost the same.
    row = db.session.execute(
        select(Case.id, Case.citizen_phone).where(Case.number == number)).first()
    actual = expected(row.citizen_phone) if row is not None else None
    matches = hmac.compare_digest((actual or "\x00" * len(given)).encode(), given.encode())
    if row is None or not actual or not given or not matches:
        return None
    return db.session.get(Case, row.id)


def _tail(phone: str | None) -> str | None:
    tail = phones.tail(phone)
    return tail if len(tail) == 4 else None


def citizen_view(case: Case) -> dict[str, Any]:
    """The status of a case for its writer. Texts are masked all the same: a number and four
    digits of a phone are a weak proof, and the citizen recognises the case without them."""
    names = _department_names()
    pub = publication_of(case)
    open_case = case.status not in (Status.CLOSED, Status.ANSWERED)
    answer = case_answer(case) if case.status in ANSWER_GIVEN else None
    return {
        "number": case.number,
        "line": case.line.code,
        "line_name": case.line.name,
        "category_name": case.category.name if case.category else None,
        "channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": case.status,
        "status_label": status_label(case.status),
        "received_at": local_instant(case.received_at),
        "department_name": names.get(case.department_code) if case.department_code else None,
        "due_date": case.due_date.isoformat() if open_case and case.due_date else None,
        "closed_at": local_instant(case.closed_at),
        "question": mask_case_text(case, case.content),
        "answer": mask_case_text(case, answer) if answer else None,
        "steps": citizen_steps(case, names),
        "published_url": f"/board/{case.number}"
        if pub is not None and pub.state == PublicationState.APPROVED else None,
        "merged_into": merged_view(case, names),
    }


def merged_view(case: Case, names: dict[str, str]) -> dict[str, Any] | None:
    """A case merged into a lead case (并单): the lead's number and how it stands — its status,
    department and deadline, never its text or its citizen."""
    lead = case.merged_into
    if lead is None:
        return None
    open_lead = lead.status not in (Status.CLOSED, Status.ANSWERED)
    return {
        "number": lead.number,
        "status": lead.status,
        "status_label": status_label(lead.status),
        "department_name": names.get(lead.department_code) if lead.department_code else None,
        "due_date": lead.due_date.isoformat() if open_lead and lead.due_date else None,
    }


def citizen_steps(case: Case, names: dict[str, str]) -> list[dict[str, str]]:
    """The timeline in the citizen's words; internal steps (notes, reminders, returns to the
    centre, review rejections) are left out."""
    steps = []
    for event in case.events:
        label = _step_label(event.action, event.data or {}, names, case)
        if label:
            steps.append({"at": local_instant(event.at), "label": label})
    return steps


def _step_label(action: str, data: dict, names: dict[str, str], case: Case) -> str | None:
    if action == "create":
        return f"已受理（{CHANNEL_LABELS.get(case.channel, case.channel)}）"
    if action in ("dispatch", "recall"):
        return f"已转交{names.get(data.get('department') or '', '承办单位')}办理"
    if action == "accept":
        return "承办单位已签收"
    if action == "extension-decision" and data.get("approve"):
        return f"经批准延期办理，办理期限至 {data.get('due_date')}"
    if action == "interim-reply":  # said to the citizen already, by SMS or WeChat
        return f"承办单位阶段性答复：{mask_case_text(case, data.get('text') or '')}"
    if action == "reply":
        return "承办单位已答复，正在审核"
    if action == "review" and data.get("approve"):
        return "答复已审核"
    if action == "answer":
        return "已即时答复"
    if action == "instruct":
        return "已列为督办件"
    if action == "close":
        return "已办结"
    if action == "reopen":
        return "重新办理"
    if action == "merge":
        return f"与同一事项合并办理（主办工单 {data.get('into')}），办理结果将同时告知您"
    if action == "survey":
        return f"已收到您的评价：{data.get('label', '')}"
    if action == "publication_approve":
        return "已在留言板公开"
    return None
