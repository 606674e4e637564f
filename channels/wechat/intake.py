"""A citizen's messages become a case (intake): the first message long enough to be a matter
opens one on the account's (or the chosen) line; messages within a few minutes add to it
(supplement) — to its content while nobody has it yet, to its timeline always."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from hotline.domain.errors import DomainError
from hotline.extensions import db
from hotline.models import Attachment, Case, Line
from hotline.services import create_case, record_event

from . import texts
from .accounts import Account, setting
from .inbound import Inbound, dedupe_key
from .intents import too_short_for_a_case
from .models import WeChatFollower
from .outcome import CITIZEN, Outcome

#: Messages within this many minutes of the last one add to the same new case.
APPEND_MINUTES = 5
#: Statuses in which later messages still add to the case (not once it has been answered).
_APPENDABLE = frozenset({"received", "dispatched", "accepted", "returned", "reopened"})
MAX_CONTENT = 20000
#: Menu keys (and QR-code scene values) that choose a line: LINE_fupin, line_zhitongche.
LINE_KEY_PREFIX = "line_"


def window() -> int:
    return int(setting("WECHAT_APPEND_MINUTES") or APPEND_MINUTES)


def draft_case(follower: WeChatFollower, now: dt.datetime) -> Case | None:
    """The case the citizen's messages still add to, if any."""
    if follower.draft_case_id is None or follower.draft_until is None or follower.draft_until < now:
        return None
    case = db.session.get(Case, follower.draft_case_id)
    if case is None or case.status not in _APPENDABLE:
        return None
    return case


def take_in(account: Account, follower: WeChatFollower, msg: Inbound, content: str,
            now: dt.datetime, *, attachment: Attachment | None = None,
            allow_short: bool = False) -> Outcome:
    content = content[:MAX_CONTENT]
    draft = draft_case(follower, now)
    if draft is not None:
        supplement(follower, draft, msg, content, now, attachment)
        return Outcome(texts.supplement_ack(draft.number), "supplement", draft)
    if not allow_short and too_short_for_a_case(content):
        return Outcome(texts.help_text(line_names()), "help")
    line_code = follower.line_code if _line_active(follower.line_code) else account.line_code
    data = {
        "line": line_code,
        "channel": "wechat",
        "content": content,
        "citizen": {"openid": follower.openid,
                    **({"phone": follower.phone} if follower.phone else {})},
        "received_at": written_at(msg, now),
    }
    try:
        with db.session.begin_nested():
            case, _ = create_case(data, CITIZEN, now=now, commit=False,
                                  idempotency_key=f"wechat:{dedupe_key(account.code, msg)}")
            if attachment is not None:
                attachment.case = case
                attachment.created_at = now
                db.session.add(attachment)
    except DomainError as exc:
        # E.g. the account's line was switched off: say so, keep the message in the log.
        current_app.logger.error("WeChat intake refused on line %s: %s", line_code, exc.message)
        return Outcome(texts.intake_refused(), "refused")
    follower.draft_case_id = case.id
    follower.draft_until = now + dt.timedelta(minutes=window())
    reply = texts.intake_ack(case.number, case.line.name, window(), case.due_date,
                             case.deadline_provisional)
    return Outcome(reply, "intake", case)


def supplement(follower: WeChatFollower, case: Case, msg: Inbound, content: str,
                now: dt.datetime, attachment: Attachment | None = None) -> None:
    """Add a later message to the case: to its content while nobody has it yet (so the
    department gets the whole story), and to its timeline always."""
    if case.status == "received":
        case.content = (case.content + "\n" + content)[:MAX_CONTENT]
    record_event(case, "supplement", CITIZEN, content,
                 {"channel": "wechat", "msg_type": msg.msg_type, "msg_id": msg.msg_id})
    if attachment is not None:
        attachment.case = case
        attachment.created_at = now
        db.session.add(attachment)
    follower.draft_until = now + dt.timedelta(minutes=window())


def _line_active(code: str | None) -> bool:
    if not code:
        return False
    return bool(db.session.scalar(select(Line.active).where(Line.code == code)))


def choose_line(follower: WeChatFollower, key: str | None) -> Line | None:
    if not key or not key.lower().startswith(LINE_KEY_PREFIX):
        return None
    code = key[len(LINE_KEY_PREFIX):].strip().lower()
    line = db.session.scalar(select(Line).where(Line.code == code, Line.active.is_(True)))
    if line is not None:
        follower.line_code = line.code
    return line


def line_names() -> list[str]:
    """Lines a citizen can choose in the menu (those with a hotline number)."""
    return list(db.session.scalars(
        select(Line.name).where(Line.active.is_(True), Line.phone_number.is_not(None))
        .order_by(Line.id)))


def written_at(msg: Inbound, now: dt.datetime) -> dt.datetime:
    """When the citizen wrote, by WeChat's clock, kept within a day before now (a wrong
    CreateTime must not move a case's deadline)."""
    moment = dt.datetime.fromtimestamp(min(msg.create_time, 4_000_000_000), dt.UTC)
    return min(max(moment, now - dt.timedelta(days=1)), now)
