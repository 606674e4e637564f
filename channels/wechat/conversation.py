"""The conversation: what one message or event from a citizen does, and what the account
answers. The webhook stores each message in the inbox and acknowledges it; a worker runs it
here in one transaction (`from_inbox`) and the reply goes out through the outbox.

- subscribe → welcome; menu clicks choose a line, list the citizen's cases, explain;
- a case number → its status, only for the citizen's own case (same "not found" otherwise);
- `我的` → recent cases; a rating while a survey is open → the survey answer;
- `绑定 手机号` / `验证码 NNNNNN` → a phone confirmed by SMS code;
- anything else → intake on the account's (or the chosen) line; further messages within a few
  minutes add to that case instead of opening another.

This module dispatches; what each kind of message does is in its own module: `intake` (a case
and its supplements), `lookup` (status, my cases, the survey answer), `binding` (the phone
confirmed by SMS code), `outcome` (the answer and the citizen actor).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline import outbox
from hotline.extensions import db
from hotline.models import Attachment, InboxMessage
from hotline.models.types import utcnow

from . import binding, intake, lookup, texts
from .accounts import Account, find_account
from .inbound import Inbound, dedupe_key, read_message
from .intake import LINE_KEY_PREFIX
from .intents import classify
from .models import WeChatFollower, WeChatInbound
from .outcome import Outcome


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
        event=msg.event, msg_id=msg.msg_id, create_time=intake.written_at(msg, now),
        received_at=now,
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
        outcome = intake.take_in(account, follower, msg, content, now, attachment=Attachment(
            kind="voice", media_id=msg.media_id,
            content_type=f"audio/{(msg.format or 'amr').lower()}"[:100]), allow_short=True)
        if outcome.case is not None:
            outcome.reply = texts.voice_ack(outcome.case.number, recognition, intake.window(),
                                            outcome.intent == "intake")
        return outcome
    if msg.msg_type in ("image", "video", "shortvideo"):
        what = "图片" if msg.msg_type == "image" else "视频"
        content = f"[{what}] 市民通过微信发送了{what}"
        outcome = intake.take_in(account, follower, msg, content, now, allow_short=True,
                          attachment=Attachment(
                              kind="image" if msg.msg_type == "image" else "video",
                              url=msg.pic_url, media_id=msg.media_id,
                              content_type="image/jpeg" if msg.msg_type == "image" else None))
        if outcome.case is not None:
            outcome.reply = texts.media_ack(outcome.case.number, what, intake.window(),
                                            outcome.intent == "intake")
        return outcome
    if msg.msg_type == "location":
        label = (msg.label or "").strip() or f"{msg.location_x},{msg.location_y}"
        draft = intake.draft_case(follower, now)
        if draft is None:
            return Outcome(texts.location_ack(None, label), "location")
        intake.supplement(follower, draft, msg,
                          f"[位置] {label}（{msg.location_x},{msg.location_y}）",
                    now)
        return Outcome(texts.location_ack(draft.number, label), "supplement", draft)
    if msg.msg_type == "link":
        parts = [p for p in (msg.title, msg.description, msg.url) if p]
        return intake.take_in(account, follower, msg, "[链接] " + "\n".join(parts), now)
    return Outcome(texts.unsupported(), "unsupported")


def _event(account: Account, follower: WeChatFollower, msg: Inbound,
           now: dt.datetime) -> Outcome:
    event = msg.event or ""
    if event in ("subscribe", "subscribe_scan"):
        follower.subscribed = True
        follower.subscribed_at = now
        follower.unsubscribed_at = None
        intake.choose_line(follower, msg.event_key)
        return Outcome(texts.welcome(account.name, intake.line_names()), "subscribe")
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
        line = intake.choose_line(follower, key)
        if line is None:
            return Outcome(texts.help_text(intake.line_names()), "help")
        # A line chosen now applies to the next case, not to one still being written.
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome(texts.line_chosen(line.name), "line")
    if upper == "MY_CASES":
        return lookup.mine(follower)
    if upper == "QUERY":
        return Outcome(texts.query_help(), "query_help")
    if upper == "BIND":
        return Outcome(texts.bind_help(), "bind_help")
    if upper == "NEW_CASE":
        follower.draft_case_id = None
        follower.draft_until = None
        return Outcome(texts.new_case_ready(), "new")
    if upper == "HELP":
        return Outcome(texts.help_text(intake.line_names()), "help")
    return Outcome("", "click")


def _text(account: Account, follower: WeChatFollower, msg: Inbound, key: str,
          now: dt.datetime) -> Outcome:
    text = (msg.content or "").strip()
    intent = classify(text, code_pending=binding.code_pending(follower, now))
    if intent.kind == "query":
        return lookup.query(follower, intent.number or "")
    if intent.kind == "query_help":
        return Outcome(texts.query_help(), "query_help")
    if intent.kind == "mine":
        return lookup.mine(follower)
    if intent.kind == "bind":
        return binding.bind(account, follower, intent, key, now)
    if intent.kind == "bind_help":
        return Outcome(texts.bind_help(), "bind_help")
    if intent.kind == "confirm":
        return binding.confirm(follower, intent.code or "", now)
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
        outcome = lookup.answer_survey(follower, intent)
        if outcome is not None:
            return outcome
        if intake.draft_case(follower, now) is None:
            return Outcome(texts.no_survey(), "survey_none")
    if intent.kind == "help":
        return Outcome(texts.help_text(intake.line_names()), "help")
    return intake.take_in(account, follower, msg, text, now)


# -- intake -------------------------------------------------------------------------------
















# -- status and the citizen's cases ---------------------------------------------------------








# -- survey ---------------------------------------------------------------------------------




# -- phone binding --------------------------------------------------------------------------








