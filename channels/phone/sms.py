"""SMS to a line's number (POST /channels/twilio/sms).

What a text is taken for, in this order:

- a case number (FP20261123-0001, with or without the dash, "查询" before it): the case's
  status in the TwiML reply — only to the phone that filed it; anyone else gets the very answer
  a number that does not exist gets;
- a survey answer (1/2/3, 满意/基本满意/不满意) while the sender has a survey open: recorded;
- an opt-out or help keyword (STOP, 退订, HELP...): no case;
- anything else: a new case on that line (channel ``sms``); the acknowledgement SMS with the
  case number goes through the outbox.

The webhook answers from the fast path: it checks the signature, the line and the size, stores
the text in the core's inbox (one short commit) and answers with empty TwiML. A worker then
does the above (`from_inbox`) and every reply goes out through the outbox as an SMS from the
line's number. Each MessageSid is handled once: Twilio's retry is refused by the inbox, and
acknowledged again.
"""

from __future__ import annotations

import logging
import re

from flask import Response, current_app, request
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from hotline import inbox, outbox, services, surveys
from hotline.domain import case_numbers, names, phones
from hotline.domain.errors import Conflict, SurveyClosed
from hotline.domain.lifecycle import ANSWER_GIVEN, Actor, Status
from hotline.extensions import db
from hotline.models import (
    Attachment,
    Case,
    Department,
    InboxMessage,
    Line,
    SmsMessage,
    Survey,
)
from hotline.models.types import utcnow

from . import calls
from .blueprint import bp, field, number
from .security import twilio_webhook

logger = logging.getLogger(__name__)

TEXTER = Actor(name="citizen:sms", role="citizen")
_CASE_NUMBER = re.compile(r"^\s*(?:查询|查|进度|工单号?|工单查询)?[\s:：]*" + case_numbers.TYPED
                          + r"\s*[。.!！?？]?\s*$")
# Twilio answers the English opt-out/opt-in/help words itself; the Chinese ones are the
# operators' convention for "stop texting me". None of them is a case.
KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START",
                      "YES", "UNSTOP", "HELP", "INFO", "退订", "TD", "T", "N"})
ANSWER_EXCERPT = 200


def parse_case_number(text: str) -> str | None:
    """"查询fp20261123 0001" → "FP20261123-0001"; None when the text is not a case number."""
    match = _CASE_NUMBER.match(text or "")
    if not match:
        return None
    return case_numbers.from_parts(*match.groups())


@bp.post("/sms")
@twilio_webhook
def incoming_sms():
    sid = field("MessageSid") or field("SmsSid", required=True)
    to = field("To", size=256)
    sender = field("From", size=256)
    line = calls.line_for_number(to)
    if line is None or not line.active:
        logger.warning("SMS %s to %s (not a line) from %s: not taken", sid, to, sender)
        return _reply("您好，本号码暂未开通热线短信服务，请拨打热线电话反映问题。")
    body = (request.form.get("Body") or "").strip()
    limit = int(current_app.config["PHONE_SMS_MAX_CHARS"])
    if len(body) > limit:
        # Twilio joins long texts up to 1600 characters; more is not an SMS.
        logger.warning("SMS %s of %d characters refused", sid, len(body))
        return _reply(f"您好，短信内容过长（超过{limit}字），请精简后重新发送，"
                      "或拨打热线电话反映。")
    inbox.receive("sms", f"twilio-sms:{sid}", sender or "", {
        "sid": sid, "from": (sender or "")[:32] or None, "to": (to or "")[:32] or None,
        "body": body, "media": _media() or None, "line": line.code})
    return _reply(None)


def from_inbox(item: InboxMessage) -> None:
    """What a text the webhook put in the inbox does (`hotline.inbox`), as of when it came:
    a case, a status, a survey answer…, and the reply to the texter through the outbox."""
    text = item.payload
    if db.session.scalar(select(SmsMessage.id).where(SmsMessage.message_sid == text["sid"])):
        return  # taken before the inbox kept it
    line = db.session.scalar(select(Line).where(Line.code == text["line"]))
    record = SmsMessage(message_sid=text["sid"], line=line, from_number=text["from"],
                        to_number=text["to"], body=text["body"], media=text["media"],
                        received_at=item.received_at, intent="help")
    db.session.add(record)
    record.reply = _take(record, line, text["body"])
    if record.reply and record.from_number:
        outbox.enqueue(record.case, "sms", record.from_number, record.reply, "reply",
                       dedupe_key=f"sms-reply:{record.message_sid}",
                       payload={"from_number": line.phone_number, "line": line.code})


def _take(record: SmsMessage, line: Line, body: str) -> str | None:
    """Decide what the text is, do it, and return the reply (None: no reply)."""
    sign = f"【{line.name}】"
    wanted = parse_case_number(body)
    if wanted:
        record.intent = "status"
        return sign + status_reply(wanted, record.from_number)
    rating = surveys.parse_rating(body)
    if rating is not None:
        survey = _open_survey(record.from_number)
        if survey is not None:
            record.intent = "survey"
            record.case = survey.case
            try:
                surveys.record_answer(survey, rating[0], rating[1], "sms")
            except SurveyClosed as closed:
                return sign + closed.message
            except Conflict:
                return sign + "您已完成本次评价，感谢您的支持。"
            thanks = f"感谢您的评价：{surveys.RATINGS[rating[0]]}。"
            if rating[0] == "unsatisfied":
                thanks += "我们会督促承办单位重新研究，并再次与您联系。"
            return sign + thanks
        if not rating[1]:
            return sign + _help_text()
    if body.upper() in KEYWORDS:
        record.intent = "keyword"
        logger.info("SMS keyword %r from %s", body, record.from_number)
        return None
    if not body and not record.media:
        return sign + _help_text()
    record.intent = "case"
    content = body or "（彩信，内容见附件）"
    case, _ = services.create_case(
        {"line": line.code, "channel": "sms", "content": content,
         "citizen": {"phone": record.from_number}, "received_at": record.received_at,
         "note": "短信来信"},
        TEXTER, idempotency_key=f"twilio-sms:{record.message_sid}", commit=False)
    record.case = case
    for item in record.media or []:
        case.attachments.append(_attachment(item))
    calls.acknowledge(case)
    return None


def status_reply(number: str, phone: str | None) -> str:
    """The status of a case for its own citizen; the not-found text for anyone else."""
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not phones.same(case.citizen_phone, phone):
        return (f"未查询到工单 {number}，请核对工单号。"
                "查询需使用登记时的手机号发送。")
    department = None
    if case.department_code:
        dep = db.session.scalar(select(Department).where(Department.code == case.department_code))
        department = dep.name if dep else case.department_code
    words = names.citizen_progress(case.status, department)
    text = f"工单 {number} {words}。"
    if case.status not in ANSWER_GIVEN and case.due_date:
        text += f"办理时限：{case.due_date:%Y年%m月%d日}。"
    answer = case.answer_text if case.status == Status.ANSWERED else None
    if case.status == Status.CLOSED:
        answer = case.reply_text or case.answer_text
    if answer:
        if len(answer) > ANSWER_EXCERPT:
            answer = answer[:ANSWER_EXCERPT] + "……"
        text += f"答复：{answer}"
    return text


def _open_survey(phone: str | None) -> Survey | None:
    return surveys.open_survey_for(phone=phone) if phone else None


def _help_text() -> str:
    return "您好，直接回复您要反映的问题即可登记工单；回复工单号（如 FP20261123-0001）可查询办理进度。"


def _media() -> list[dict[str, str]]:
    count = min(number("NumMedia") or 0, 10)
    items = []
    for i in range(count):
        url = (request.form.get(f"MediaUrl{i}") or "").strip()
        if url:
            items.append({"url": url[:1000],
                          "content_type": (request.form.get(f"MediaContentType{i}") or "")[:100]})
    return items


def _attachment(item: dict[str, str]) -> Attachment:
    kind = "image" if item.get("content_type", "").startswith("image/") else "document"
    return Attachment(kind=kind, url=item["url"], content_type=item.get("content_type") or None,
                      created_at=utcnow())


def _reply(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")
