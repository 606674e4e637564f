"""The conversation: what one message or event from a citizen does, and what the account
answers. The webhook stores each message in the inbox and acknowledges it; a worker runs it
here in one transaction (`from_inbox`) and the reply goes out through the outbox.

- subscribe → welcome; menu clicks choose a line, list the citizen's cases, explain;
- a case number → its status, only for the citizen's own case (same "not found" otherwise);
- `我的` → recent cases; a rating while a survey is open → the survey answer;
- `绑定 手机号` / `验证码 NNNNNN` → a phone confirmed by SMS code;
- anything else → intake on the account's (or the chosen) line; further messages within a few
  minutes add to that case instead of opening another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline import outbox
from hotline.domain import phones
from hotline.domain.errors import DomainError, SurveyClosed
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Attachment, Case, InboxMessage, Line, OutboxMessage
from hotline.models.types import utcnow
from hotline.services import create_case, record_event
from hotline.surveys import open_survey_for, record_answer

from . import texts
from .accounts import Account, find_account, setting
from .inbound import Inbound, dedupe_key, read_message
from .intents import Intent, classify, too_short_for_a_case
from .models import WeChatFollower, WeChatInbound

CITIZEN = Actor(name="citizen:wechat", role="citizen")

#: Messages within this many minutes of the last one add to the same new case.
APPEND_MINUTES = 5
#: Statuses in which later messages still add to the case (not once it has been answered).
_APPENDABLE = frozenset({"received", "dispatched", "accepted", "returned", "reopened"})
CODE_MINUTES = 10
CODE_INTERVAL = dt.timedelta(seconds=60)
CODE_MAX_ATTEMPTS = 5
#: Codes per phone number (and per openid) a day: the binding must not be a way to flood
#: somebody's phone with SMS.
CODE_DAILY_LIMIT = 5
RECENT_CASES = 5
MAX_CONTENT = 20000
#: Menu keys (and QR-code scene values) that choose a line: LINE_fupin, line_zhitongche.
LINE_KEY_PREFIX = "line_"


@dataclass
class Outcome:
    reply: str
    intent: str
    case: Case | None = None


def handle(account: Account, msg: Inbound, body: bytes, now: dt.datetime | None = None) -> str:
    """Process one message or event as of `now` (when it was received) and return the reply
    text ("" for nothing to say), in the caller's transaction (the inbox's: no commit).

    A message logged before (one processed before the inbox kept it) returns the reply stored
    the first time and does nothing else.
    """
    now = now or utcnow()
    key = dedupe_key(account.code, msg)
    earlier = _stored_reply(key)
    if earlier is not None:
        return earlier
    row = WeChatInbound(
        account_code=account.code, dedupe_key=key, openid=msg.openid, msg_type=msg.msg_type,
        event=msg.event, msg_id=msg.msg_id, create_time=_created(msg, now), received_at=now,
        reply="", body=body.decode("utf-8", errors="replace"))
    db.session.add(row)
    follower = _follower(account, msg.openid, now)
    outcome = _respond(account, follower, msg, key, now)
    row.reply = outcome.reply
    row.intent = outcome.intent
    row.case_id = outcome.case.id if outcome.case is not None else None
    return outcome.reply


def from_inbox(item: InboxMessage) -> None:
    """What a message the webhook put in the inbox does (`hotline.inbox`): the conversation,
    as of when it was received, and its reply to the citizen through the outbox — a
    customer-service message, inside WeChat's 48-hour window since they have just written."""
    account = find_account(item.payload["account"])
    if account is None:
        current_app.logger.warning("WeChat inbox %s: account %s is gone; not processed",
                                   item.id, item.payload["account"])
        return
    xml = item.payload["xml"].encode("utf-8")
    msg = read_message(xml)
    reply = handle(account, msg, xml, now=item.received_at)
    if reply:
        outbox.enqueue(None, "wechat", msg.openid, reply, "reply",
                       dedupe_key=f"wechat-reply:{item.dedupe_key}")


def _stored_reply(key: str) -> str | None:
    return db.session.scalar(select(WeChatInbound.reply).where(WeChatInbound.dedupe_key == key))


def _created(msg: Inbound, now: dt.datetime) -> dt.datetime:
    """When the citizen wrote, by WeChat's clock, kept within a day before now (a wrong
    CreateTime must not move a case's deadline)."""
    moment = dt.datetime.fromtimestamp(min(msg.create_time, 4_000_000_000), dt.UTC)
    return min(max(moment, now - dt.timedelta(days=1)), now)


def _follower(account: Account, openid: str, now: dt.datetime) -> WeChatFollower:
    """The citizen's row, its last contact set to now, created on first contact and locked
    for this transaction: two messages from one citizen are handled one after the other, so
    that the second sees the case the first opened. (One UPDATE … RETURNING both locks and
    reads the row.)"""
    touch = (update(WeChatFollower)
             .where(WeChatFollower.account_code == account.code, WeChatFollower.openid == openid)
             .values(last_inbound_at=now).returning(WeChatFollower))
    follower = db.session.scalars(touch, execution_options={"populate_existing": True}).first()
    if follower is not None:
        return follower
    try:
        with db.session.begin_nested():
            follower = WeChatFollower(account_code=account.code, openid=openid, subscribed=True,
                                      created_at=now, last_inbound_at=now, code_attempts=0)
            db.session.add(follower)
        return follower
    except IntegrityError:
        pass  # created by a concurrent request; update it (waiting for its lock) below
    return db.session.scalars(touch, execution_options={"populate_existing": True}).one()


# -- what a message does ------------------------------------------------------------------


def _respond(account: Account, follower: WeChatFollower, msg: Inbound, key: str,
             now: dt.datetime) -> Outcome:
    if msg.msg_type == "event":
        return _event(account, follower, msg, now)
    if msg.msg_type == "text":
        return _text(account, follower, msg, key, now)
    if msg.msg_type == "voice":
        recognition = (msg.recognition or "").strip() or None
        content = f"[语音] {recognition}" if recognition else "[语音留言，未能识别文字]"
        outcome = _intake(account, follower, msg, content, now, attachment=Attachment(
            kind="voice", media_id=msg.media_id,
            content_type=f"audio/{(msg.format or 'amr').lower()}"[:100]), allow_short=True)
        if outcome.case is not None:
            outcome.reply = texts.voice_ack(outcome.case.number, recognition, _window(),
                                            outcome.intent == "intake")
        return outcome
    if msg.msg_type in ("image", "video", "shortvideo"):
        what = "图片" if msg.msg_type == "image" else "视频"
        content = f"[{what}] 市民通过微信发送了{what}"
        outcome = _intake(account, follower, msg, content, now, allow_short=True,
                          attachment=Attachment(
                              kind="image" if msg.msg_type == "image" else "video",
                              url=msg.pic_url, media_id=msg.media_id,
                              content_type="image/jpeg" if msg.msg_type == "image" else None))
        if outcome.case is not None:
            outcome.reply = texts.media_ack(outcome.case.number, what, _window(),
                                            outcome.intent == "intake")
        return outcome
    if msg.msg_type == "location":
        label = (msg.label or "").strip() or f"{msg.location_x},{msg.location_y}"
        draft = _draft(follower, now)
        if draft is None:
            return Outcome(texts.location_ack(None, label), "location")
        _supplement(follower, draft, msg, f"[位置] {label}（{msg.location_x},{msg.location_y}）",
                    now)
        return Outcome(texts.location_ack(draft.number, label), "supplement", draft)
    if msg.msg_type == "link":
        parts = [p for p in (msg.title, msg.description, msg.url) if p]
        return _intake(account, follower, msg, "[链接] " + "\n".join(parts), now)
    return Outcome(texts.unsupported(), "unsupported")


def _event(account: Account, follower: WeChatFollower, msg: Inbound,
           now: dt.datetime) -> Outcome:
    event = msg.event or ""
    if event in ("subscribe", "subscribe_scan"):
        follower.subscribed = True
        follower.subscribed_at = now
        follower.unsubscribed_at = None
        _choose_line(follower, msg.event_key)
        return Outcome(texts.welcome(account.name, _line_names()), "subscribe")
    if event == "unsubscribe":
        follower.subscribed = False
        follower.unsubscribed_at = now
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome("", "unsubscribe")
    if event in ("click", "scan"):
        return _click(account, follower, (msg.event_key or "").strip(), now)
    # VIEW (a link in the menu), LOCATION reports, TEMPLATESENDJOBFINISH...: nothing to say.
    return Outcome("", event or "event")


def _click(account: Account, follower: WeChatFollower, key: str, now: dt.datetime) -> Outcome:
    upper = key.upper()
    if key.lower().startswith(LINE_KEY_PREFIX):
        line = _choose_line(follower, key)
        if line is None:
            return Outcome(texts.help_text(_line_names()), "help")
        # A line chosen now applies to the next case, not to one still being written.
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome(texts.line_chosen(line.name), "line")
    if upper == "MY_CASES":
        return _mine(follower)
    if upper == "QUERY":
        return Outcome(texts.query_help(), "query_help")
    if upper == "BIND":
        return Outcome(texts.bind_help(), "bind_help")
    if upper == "NEW_CASE":
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome(texts.new_case_ready(), "new")
    if upper == "HELP":
        return Outcome(texts.help_text(_line_names()), "help")
    return Outcome("", "click")


def _text(account: Account, follower: WeChatFollower, msg: Inbound, key: str,
          now: dt.datetime) -> Outcome:
    text = (msg.content or "").strip()
    intent = classify(text, code_pending=_code_pending(follower, now))
    if intent.kind == "query":
        return _query(follower, intent.number or "")
    if intent.kind == "query_help":
        return Outcome(texts.query_help(), "query_help")
    if intent.kind == "mine":
        return _mine(follower)
    if intent.kind == "bind":
        return _bind(account, follower, intent, key, now)
    if intent.kind == "bind_help":
        return Outcome(texts.bind_help(), "bind_help")
    if intent.kind == "confirm":
        return _confirm(follower, intent.code or "", now)
    if intent.kind == "unbind":
        had = follower.phone is not None
        follower.phone = None
        follower.phone_confirmed_at = None
        return Outcome(texts.unbound(had), "unbind")
    if intent.kind == "new":
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome(texts.new_case_ready(), "new")
    if intent.kind == "survey":
        outcome = _survey(follower, intent)
        if outcome is not None:
            return outcome
        if _draft(follower, now) is None:
            return Outcome(texts.no_survey(), "survey_none")
    if intent.kind == "help":
        return Outcome(texts.help_text(_line_names()), "help")
    return _intake(account, follower, msg, text, now)


# -- intake -------------------------------------------------------------------------------


def _window() -> int:
    return int(setting("WECHAT_APPEND_MINUTES") or APPEND_MINUTES)


def _draft(follower: WeChatFollower, now: dt.datetime) -> Case | None:
    """The case the citizen's messages still add to, if any."""
    if follower.draft_case_id is None or follower.draft_until is None or follower.draft_until < now:
        return None
    case = db.session.get(Case, follower.draft_case_id)
    if case is None or case.status not in _APPENDABLE:
        return None
    return case


def _intake(account: Account, follower: WeChatFollower, msg: Inbound, content: str,
            now: dt.datetime, *, attachment: Attachment | None = None,
            allow_short: bool = False) -> Outcome:
    content = content[:MAX_CONTENT]
    draft = _draft(follower, now)
    if draft is not None:
        _supplement(follower, draft, msg, content, now, attachment)
        return Outcome(texts.supplement_ack(draft.number), "supplement", draft)
    if not allow_short and too_short_for_a_case(content):
        return Outcome(texts.help_text(_line_names()), "help")
    line_code = follower.line_code if _line_active(follower.line_code) else account.line_code
    data = {
        "line": line_code,
        "channel": "wechat",
        "content": content,
        "citizen": {"openid": follower.openid,
                    **({"phone": follower.phone} if follower.phone else {})},
        "received_at": _created(msg, now),
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
    follower.draft_until = now + dt.timedelta(minutes=_window())
    reply = texts.intake_ack(case.number, case.line.name, _window(), case.due_date,
                             case.deadline_provisional)
    return Outcome(reply, "intake", case)


def _supplement(follower: WeChatFollower, case: Case, msg: Inbound, content: str,
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
    follower.draft_until = now + dt.timedelta(minutes=_window())


def _line_active(code: str | None) -> bool:
    if not code:
        return False
    return bool(db.session.scalar(select(Line.active).where(Line.code == code)))


def _choose_line(follower: WeChatFollower, key: str | None) -> Line | None:
    if not key or not key.lower().startswith(LINE_KEY_PREFIX):
        return None
    code = key[len(LINE_KEY_PREFIX):].strip().lower()
    line = db.session.scalar(select(Line).where(Line.code == code, Line.active.is_(True)))
    if line is not None:
        follower.line_code = line.code
    return line


def _line_names() -> list[str]:
    """Lines a citizen can choose in the menu (those with a hotline number)."""
    return list(db.session.scalars(
        select(Line.name).where(Line.active.is_(True), Line.phone_number.is_not(None))
        .order_by(Line.id)))


# -- status and the citizen's cases ---------------------------------------------------------


def _own_cases(follower: WeChatFollower):
    """A filter for the cases this citizen may see: written with this openid, or with the
    phone number they confirmed."""
    mine = Case.citizen_openid == follower.openid
    if follower.phone:
        return or_(mine, Case.citizen_phone_key == phones.key(follower.phone))
    return mine


def _query(follower: WeChatFollower, number: str) -> Outcome:
    case = db.session.scalar(select(Case).where(Case.number == number, _own_cases(follower)))
    if case is None:
        return Outcome(texts.not_found(number), "query")
    answer = None
    if case.status in ("reviewed", "closed") and case.reply_text:
        answer = case.reply_text
    elif case.status in ("answered", "closed") and case.answer_text:
        answer = case.answer_text
    reply = texts.case_status(
        case.number, case.line.name, case.status, case.received_at,
        case.department.name if case.department is not None else None,
        case.due_date, case.deadline_provisional, answer)
    return Outcome(reply, "query", case)


def _mine(follower: WeChatFollower) -> Outcome:
    cases = db.session.scalars(
        select(Case).where(_own_cases(follower))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(RECENT_CASES))
    rows = [(c.number, c.status, c.received_at, c.content) for c in cases]
    return Outcome(texts.mine(rows), "mine")


# -- survey ---------------------------------------------------------------------------------


def _survey(follower: WeChatFollower, intent: Intent) -> Outcome | None:
    survey = open_survey_for(openid=follower.openid)
    if survey is None and follower.phone:
        survey = open_survey_for(phone=follower.phone)
    if survey is None:
        return None
    try:
        record_answer(survey, intent.rating or "", intent.comment, "wechat", actor=CITIZEN)
    except SurveyClosed as closed:
        return Outcome(closed.message, "survey_closed", survey.case)
    return Outcome(texts.survey_thanks(survey.case.number, intent.rating or ""), "survey",
                   survey.case)


# -- phone binding --------------------------------------------------------------------------


def _code_hash(follower: WeChatFollower, phone: str, code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"wechat-bind:{follower.id}:{phone}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _code_pending(follower: WeChatFollower, now: dt.datetime) -> bool:
    return (follower.code_hash is not None and follower.code_sent_at is not None
            and now - follower.code_sent_at < dt.timedelta(minutes=CODE_MINUTES))


def _bind(account: Account, follower: WeChatFollower, intent: Intent, key: str,
          now: dt.datetime) -> Outcome:
    phone = intent.phone
    if phone is None:
        return Outcome(texts.bind_help(), "bind_help")
    if follower.code_sent_at is not None and now - follower.code_sent_at < CODE_INTERVAL:
        wait = CODE_INTERVAL - (now - follower.code_sent_at)
        return Outcome(texts.bind_wait(max(1, int(wait.total_seconds()))), "bind_wait")
    day_ago = now - dt.timedelta(days=1)
    sent_to_phone = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.purpose == "verify", OutboxMessage.recipient == phone,
            OutboxMessage.created_at >= day_ago))
    asked_by_openid = db.session.scalar(
        select(func.count()).select_from(WeChatInbound).where(
            WeChatInbound.openid == follower.openid, WeChatInbound.intent == "bind",
            WeChatInbound.received_at >= day_ago))
    if sent_to_phone >= CODE_DAILY_LIMIT or asked_by_openid >= CODE_DAILY_LIMIT:
        return Outcome("今天获取验证码的次数已达上限，请明天再试。", "bind_limit")
    code = f"{secrets.randbelow(10**6):06d}"
    follower.pending_phone = phone
    follower.code_hash = _code_hash(follower, phone, code)
    follower.code_sent_at = now
    follower.code_attempts = 0
    line_code = follower.line_code or account.line_code
    # Sent from the number of the citizen's line, which they know (the relay's "from_number").
    from_number = db.session.scalar(select(Line.phone_number).where(Line.code == line_code))
    outbox.enqueue(None, "sms", phone, texts.bind_sms(code, CODE_MINUTES), "verify",
                   dedupe_key=f"wechat-bind:{key}",
                   payload={"line": line_code, "from_number": from_number})
    return Outcome(texts.bind_code_sent(phones.masked(phone), CODE_MINUTES), "bind")


def _confirm(follower: WeChatFollower, code: str, now: dt.datetime) -> Outcome:
    phone = follower.pending_phone
    if not phone or not _code_pending(follower, now) or \
            follower.code_attempts >= CODE_MAX_ATTEMPTS:
        return Outcome(texts.bind_failed(), "confirm_failed")
    if not hmac.compare_digest(follower.code_hash or "", _code_hash(follower, phone, code)):
        follower.code_attempts += 1
        if follower.code_attempts >= CODE_MAX_ATTEMPTS:
            follower.code_hash = None
        return Outcome(texts.bind_failed(), "confirm_failed")
    follower.phone = phone
    follower.phone_confirmed_at = now
    follower.pending_phone = None
    follower.code_hash = None
    follower.code_attempts = 0
    return Outcome(texts.bind_done(phones.masked(phone)), "confirm")
