"""The automated survey call (电话回访) for citizens without WeChat: Twilio rings them, a Mandarin
voice names the case and asks 满意请按1、基本满意请按2、不满意请按3, and the key pressed is
recorded like any other survey answer.

For the workers:

- ``survey_call_hook(case, survey)`` is listed in ``hotline.wiring.PROVIDERS`` ("survey_call"):
  when Twilio is configured, a citizen whose only number is a landline (no SMS, no WeChat)
  is asked by a call, rung within ``SURVEY_CALL_HOURS`` (08:30–20:00 in the province); with ``SURVEY_CALL_PHONE_CALLERS``
  (default off) so is everyone who called the line, mobiles included — otherwise a mobile
  gets the SMS survey, whose link and quick reply cost less than a call;
- ``enqueue_survey_call(survey)`` writes the call into the outbox (channel ``voice``, purpose
  ``survey``, ``payload["twiml_url"]``) in the caller's transaction; the relay passes the URL
  on as ``OutboundMessage.twiml_url`` to ``channels.senders.TwilioCallSender``;
- ``place_survey_call(survey, sender, key)`` places it at once through a sender.

Webhooks (signed like every Twilio webhook; the survey is named by a signed token):

    POST /channels/twilio/survey-call?s=<token>[&try=n]   the question (<Gather numDigits=1>)
    POST /channels/twilio/survey-call/answer?s=<token>    the key pressed
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from channels.senders import MANDARIN_VOICE, OutboundMessage, Sender, SendResult
from hotline import outbox, surveys
from hotline.domain import phones
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Case, OutboxMessage, Survey

from . import twiml
from .blueprint import bp, field, writes_first
from .security import public_url, twilio_webhook

logger = logging.getLogger(__name__)

#: How many times the question is asked before the call ends without an answer.
ASKS = 2
#: Local hours (from, to) in which citizens are rung for a survey, the default of the setting
#: ``SURVEY_CALL_HOURS``: a case of the 24-hour line closed at night is asked about the next
#: morning. (0, 24) rings at any hour.
SURVEY_CALL_HOURS = (8.5, 20.0)
KEYS = {"1": "satisfied", "2": "basically_satisfied", "3": "unsatisfied"}
VOICE_ANSWER = Actor(name="citizen:voice", role="citizen")


def survey_call_url(survey: Survey) -> str:
    """The TwiML URL Twilio fetches when the citizen picks up."""
    return public_url("/survey-call", s=surveys.survey_token(survey))


def survey_call_text(survey: Survey) -> str:
    """The question as read out (also the outbox row's text, for staff)."""
    case = survey.case
    when = case.received_at.astimezone(PROVINCE_TZ)
    return (f"您好，这里是{case.line.name}回访。您于{when.month}月{when.day}日反映的问题，"
            f"工单号{twiml.spell(case.number)}，已经办理完毕。请您对办理结果进行评价："
            "满意请按1，基本满意请按2，不满意请按3。")


def survey_call_message(survey: Survey, key: str) -> OutboundMessage:
    case = survey.case
    return OutboundMessage(key=key, channel="voice", to=survey.recipient or case.citizen_phone
                           or "", text=survey_call_text(survey), purpose="survey",
                           from_number=case.line.phone_number,
                           twiml_url=survey_call_url(survey))


def place_survey_call(survey: Survey, sender: Sender, key: str) -> SendResult:
    """Ring the citizen now through `sender` (a ``TwilioCallSender``); raises the sender's
    ``PermanentSendError`` / ``TransientSendError``."""
    return sender.send(survey_call_message(survey, key))


def enqueue_survey_call(survey: Survey) -> OutboxMessage:
    """Put the survey call in the outbox (no commit); once per survey."""
    case = survey.case
    phone = survey.recipient or case.citizen_phone
    return outbox.enqueue(case, "voice", phone, survey_call_text(survey), "survey",
                          dedupe_key=f"survey-call:{survey.id}",
                          payload={"twiml_url": survey_call_url(survey),
                                   "from_number": case.line.phone_number,
                                   "survey_id": survey.id})


def survey_call_hook(case: Case, survey: Survey) -> OutboxMessage | None:
    """Put the survey to the citizen by an automated call, or decline (None) so that the
    workers send it by SMS. A line without a phone number cannot ring anyone."""
    config = current_app.config
    if not case.citizen_phone or not case.line.phone_number:
        return None
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        return None  # nothing can ring: an operator will call instead
    by_call = not phones.is_mobile(case.citizen_phone) or (
        case.channel == "phone" and config.get("SURVEY_CALL_PHONE_CALLERS"))
    if not by_call:
        return None
    survey.channel = "voice"
    survey.recipient = phones.e164(case.citizen_phone) or case.citizen_phone
    db.session.flush()  # the survey's id names the call
    message = enqueue_survey_call(survey)
    hours = config.get("SURVEY_CALL_HOURS") or SURVEY_CALL_HOURS
    message.next_attempt_at = calling_time(max(message.next_attempt_at, survey.sent_at), hours)
    return message


def calling_time(at: dt.datetime, hours: tuple[float, float] = SURVEY_CALL_HOURS
                 ) -> dt.datetime:
    """`at`, or the next moment inside `hours` (local hours from–to, province time)."""
    start, end = (float(h) for h in hours)
    local = at.astimezone(PROVINCE_TZ)
    hour = local.hour + local.minute / 60 + local.second / 3600
    if start <= hour < end:
        return at
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day = midnight if hour < start else midnight + dt.timedelta(days=1)
    return (day + dt.timedelta(hours=start)).astimezone(dt.UTC)


def _survey() -> Survey | None:
    token = request.args.get("s") or ""
    return surveys.survey_from_token(token) if token else None


def _thanks(rating: str) -> str:
    text = f"您的评价是：{surveys.RATINGS[rating]}。感谢您的支持，"
    if rating == "unsatisfied":
        text += "我们会督促承办单位重新研究办理，并再次与您联系，"
    return text + "再见。"


@bp.post("/survey-call")
@twilio_webhook
def survey_question():
    survey = _survey()
    if survey is None:
        return twiml.twiml(twiml.goodbye("您好，本次回访信息有误，给您带来不便，敬请谅解。再见。"))
    if survey.answered_at is not None:
        return twiml.twiml(twiml.goodbye("您已完成本次评价，感谢您的支持，再见。"))
    if survey.superseded_at is not None:
        return twiml.twiml(twiml.goodbye(surveys.closed_survey_text(survey) + "再见。"))
    asked = _int(request.args.get("try"), 1)
    token = request.args["s"]
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=8, method="POST",
                             action=public_url("/survey-call/answer", s=token, **{"try": asked}))
    gather.say(survey_call_text(survey) if asked == 1 else
               "请对办理结果进行评价：满意请按1，基本满意请按2，不满意请按3。", **MANDARIN_VOICE)
    if asked < ASKS:
        response.redirect(public_url("/survey-call", s=token, **{"try": asked + 1}), method="POST")
    else:
        twiml.say(response, "没有收到您的按键。感谢您的接听，再见。")
        response.hangup()
    return twiml.twiml(response)


@bp.post("/survey-call/answer")
@twilio_webhook
@writes_first
def survey_key():
    survey = _survey()
    if survey is None:
        return twiml.twiml(twiml.goodbye("您好，本次回访信息有误，给您带来不便，敬请谅解。再见。"))
    if survey.answered_at is not None:
        # Twilio repeating the key press, or an answer given meanwhile by SMS or WeChat.
        return twiml.twiml(twiml.goodbye(_thanks(survey.rating) if survey.rating in KEYS.values()
                                         else "您已完成本次评价，感谢您的支持，再见。"))
    if survey.superseded_at is not None:
        return twiml.twiml(twiml.goodbye(surveys.closed_survey_text(survey) + "再见。"))
    rating = KEYS.get(field("Digits", size=16) or "")
    asked = _int(request.args.get("try"), 1)
    if rating is None:
        if asked >= ASKS:
            return twiml.twiml(twiml.goodbye("没有收到有效的按键。感谢您的接听，再见。"))
        response = VoiceResponse()
        twiml.say(response, "按键无效。")
        response.redirect(public_url("/survey-call", s=request.args["s"], **{"try": asked + 1}),
                          method="POST")
        return twiml.twiml(response)
    surveys.record_answer(survey, rating, None, "voice", VOICE_ANSWER)
    db.session.commit()
    logger.info("survey %s answered by phone key: %s", survey.id, rating)
    return twiml.twiml(twiml.goodbye(_thanks(rating)))


def _int(value: str | None, default: int) -> int:
    try:
        return max(int(value or default), 1)
    except ValueError:
        return default
