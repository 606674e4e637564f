"""SMS to a line: a new case with its acknowledgement SMS, a status query answered only to the
phone that filed the case, a survey answer, and the refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from channels.senders import OutboundMessage, TwilioSmsSender
from hotline import inbox
from hotline.extensions import db
from hotline.models import Case, CaseEvent, OutboxMessage, SmsMessage, Survey
from hotline.models.types import utcnow
from tests.fakeservers import FakeTwilio

from .conftest import ACCOUNT_SID, AUTH_TOKEN, CALLER, FUPIN, ZHITONGCHE, sms_params

TEXT = "我是威宁县迤那镇的村民，家里危房改造补助申请半年了还没有下来，请帮忙问一下。"
STRANGER = "+8613700001111"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def send_sms(twilio, sid: str, body: str, **kw) -> str | None:
    """What the texter gets back: the TwiML answer's message when the webhook refuses the text
    at once; else, once a worker has done what the inbox holds (run here as the worker's job
    runs it), the reply it sends through the outbox (None: no reply)."""
    root = twilio.twiml("/sms", sms_params(sid, body, **kw))
    found = root.find("Message")
    if found is not None:
        return found.text
    inbox.process_pending()
    return db.session.scalar(select(OutboxMessage.text).where(
        OutboxMessage.dedupe_key == f"sms-reply:{sid}"))


def deliver(app, row: OutboxMessage, fake: FakeTwilio) -> None:
    """Send an outbox row the way the workers do: their relay if it is there, else the same
    Twilio sender it would use."""
    app.config.update(TWILIO_API_BASE=fake.url, TWILIO_FROM_NUMBER=FUPIN)
    try:
        from workers.relay import deliver as relay_deliver
    except ImportError:
        relay_deliver = None
    if relay_deliver is not None:
        assert relay_deliver(row.id) == "sent"
        return
    sender = TwilioSmsSender(ACCOUNT_SID, AUTH_TOKEN, base_url=fake.url)
    sender.send(OutboundMessage(key=str(row.id), channel="sms", to=row.recipient, text=row.text,
                                purpose=row.purpose, from_number=row.payload["from_number"]))


def test_sms_files_a_case_and_the_acknowledgement_reaches_the_citizen_through_twilio(
        twilio, phone_app):
    assert send_sms(twilio, "SM" + "1" * 32, TEXT) is None  # the acknowledgement is an SMS:
    case = db.session.scalar(select(Case))
    assert (case.line.code, case.channel, case.content, case.citizen_phone) == \
        ("fupin", "sms", TEXT, CALLER)
    ack = db.session.scalar(select(OutboxMessage))
    assert (ack.channel, ack.purpose, ack.recipient, ack.case_id) == ("sms", "ack", CALLER,
                                                                      case.id)
    assert case.number in ack.text and ack.text.startswith("【扶贫专线】")

    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        deliver(phone_app, ack, fake)
        assert len(fake.messages) == 1
        sent = fake.messages[0]
        assert (sent["to"], sent["from"]) == (CALLER, FUPIN)
        assert case.number in sent["body"]
        assert fake.requests[-1].basic_auth == (ACCOUNT_SID, AUTH_TOKEN)


def test_twilio_repeating_an_sms_webhook_files_nothing_twice(twilio):
    first = send_sms(twilio, "SM" + "1" * 32, TEXT)
    again = send_sms(twilio, "SM" + "1" * 32, TEXT)
    assert first is None and again is None
    assert (count(Case), count(OutboxMessage), count(SmsMessage)) == (1, 1, 1)


def test_sms_to_zhitongche_is_a_case_of_that_line(twilio):
    send_sms(twilio, "SM" + "2" * 32, "我公司申报的技改补贴迟迟未拨付，请协调。", to=ZHITONGCHE)
    assert db.session.scalar(select(Case)).number.startswith("ZT")


def test_case_number_by_sms_gives_the_status_only_to_the_phone_that_filed_it(twilio, api,
                                                                            tokens):
    send_sms(twilio, "SM" + "1" * 32, TEXT)
    number = db.session.scalar(select(Case.number))
    api.post(f"/cases/{number}/dispatch", tokens.operator, {"department": "gz-housing"})

    own = send_sms(twilio, "SM" + "3" * 32, f"查询 {number.lower().replace('-', '')}")
    assert number in own and "贵州省住房和城乡建设厅" in own and "办理时限" in own

    stranger = send_sms(twilio, "SM" + "4" * 32, number, sender=STRANGER)
    made_up = "FP20200101-0999"
    missing = send_sms(twilio, "SM" + "5" * 32, made_up, sender=STRANGER)
    assert "住房" not in stranger
    assert stranger.replace(number, "<n>") == missing.replace(made_up, "<n>")
    assert count(Case) == 1


def test_status_of_a_case_an_operator_typed_in_with_a_national_number(twilio, new_case, api,
                                                                      tokens):
    case = new_case(citizen={"name": "王建国", "phone": "13985012345"})
    api.post(f"/cases/{case['number']}/answer", tokens.operator,
             {"text": "已协调区住建局，拖欠工程款将于本月底前结清。"})
    reply = send_sms(twilio, "SM" + "6" * 32, case["number"], to=ZHITONGCHE)
    assert "已答复" in reply and "本月底前结清" in reply


def test_survey_answer_by_sms_is_recorded_on_the_case(twilio, new_case):
    case = new_case(citizen={"name": "王建国", "phone": "13985012345"})
    row = db.session.scalar(select(Case).where(Case.number == case["number"]))
    db.session.add(Survey(case=row, round=1, channel="sms", recipient=CALLER, sent_at=utcnow()))
    db.session.commit()

    reply = send_sms(twilio, "SM" + "7" * 32, "3，工程款还是没有结清", to=ZHITONGCHE)

    assert "不满意" in reply and "再次与您联系" in reply
    survey = db.session.scalar(select(Survey))
    assert (survey.rating, survey.comment, survey.answer_channel) == \
        ("unsatisfied", "工程款还是没有结清", "sms")
    again = send_sms(twilio, "SM" + "7" * 32, "3，工程款还是没有结清", to=ZHITONGCHE)
    assert again == reply
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.action == "survey")) == 1
    assert count(Case) == 1  # the answer is not a new case


def test_a_bare_digit_without_an_open_survey_gets_help_not_a_case(twilio):
    reply = send_sms(twilio, "SM" + "8" * 32, "1")
    assert "工单号" in reply and count(Case) == 0


@pytest.mark.parametrize("word", ["STOP", "退订", "HELP"])
def test_opt_out_and_help_keywords_are_no_case(twilio, word):
    reply = send_sms(twilio, "SM" + "9" * 32, word)
    assert count(Case) == 0
    assert db.session.scalar(select(SmsMessage.intent)) == "keyword"
    assert reply is None


def test_empty_sms_gets_the_help_text(twilio):
    reply = send_sms(twilio, "SM" + "a" * 32, "   ")
    assert "直接回复您要反映的问题" in reply and count(Case) == 0


def test_picture_message_becomes_a_case_with_the_picture_attached(twilio):
    send_sms(twilio, "SM" + "b" * 32, "村里道路塌方，见图。", NumMedia="1",
             MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM1/Media/ME1",
             MediaContentType0="image/jpeg")
    case = db.session.scalar(select(Case))
    assert [(a.kind, a.content_type) for a in case.attachments] == [("image", "image/jpeg")]


def test_sms_to_a_number_that_is_no_line_is_answered_and_not_stored(twilio):
    reply = send_sms(twilio, "SM" + "c" * 32, TEXT, to="+8685100000000")
    assert "暂未开通" in reply
    assert (count(Case), count(SmsMessage)) == (0, 0)


def test_over_long_text_is_refused_with_a_reply_and_no_case(twilio):
    reply = send_sms(twilio, "SM" + "d" * 32, "反映" * 1000)
    assert "过长" in reply and count(Case) == 0


def test_oversized_or_forged_sms_webhooks_change_nothing(twilio):
    big = twilio.post("/sms", sms_params("SM" + "e" * 32, "x" * (70 * 1024)))
    assert big.status_code == 413
    params = sms_params("SM" + "f" * 32, TEXT)
    forged = twilio.sign("/channels/twilio/sms", params, token="someone-else")
    assert twilio.post("/sms", params, signature=forged).status_code == 403
    assert twilio.post("/sms", {}).status_code == 400
    assert (count(Case), count(SmsMessage), count(OutboxMessage)) == (0, 0, 0)


def test_survey_answer_after_the_case_was_reopened_is_refused_with_a_clear_reply(
        twilio, reopened_case):
    case = reopened_case(citizen={"name": "王建国", "phone": "13985012345"})
    [survey] = db.session.scalars(select(Survey)).all()  # sent at closing, never answered

    reply = send_sms(twilio, "SM" + "c" * 32, "3 还没付款", to=ZHITONGCHE)

    assert case["number"] in reply and "重新交办" in reply and "未记录" in reply
    db.session.expire_all()
    assert survey.rating is None and survey.superseded_at is not None
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.action == "survey")) == 0
    assert count(Case) == 1  # nor is the late answer taken for a new case
