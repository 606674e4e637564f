"""A co-handling department (协办) is told by its contacts when it is added to a case — at
dispatch or later — with the lead department and the date its part is due; sent by the real
RQ worker through the Twilio client to the fake Twilio server, once."""

from __future__ import annotations

from .conftest import outbox, relay_and_work
from .test_department_notices import add_contact

HOUSING_MOBILE = "13908510002"
HOUSING_E164 = "+8613908510002"


def housing_sms(fake_twilio) -> list[str]:
    return [m["body"] for m in fake_twilio.messages if m["to"] == HOUSING_E164]


def test_a_co_handler_added_at_dispatch_or_later_is_told_once_with_its_part_deadline(
        app, api, tokens, new_case, step, fake_twilio):
    assert add_contact(api, tokens, "gz-housing", channel="sms", address=HOUSING_MOBILE,
                       name="住建厅值班室").status_code == 201
    first = new_case()["number"]
    case = step(first, "dispatch", {"department": "gz-hrss", "cohandlers": ["gz-housing"]})
    due = case["cohandlers"][0]["due_date"]
    second = new_case()["number"]
    step(second, "dispatch", {"department": "gz-hrss"})
    step(second, "cohandle", {"departments": ["gz-housing"]}, as_="supervisor")
    relay_and_work(app)
    relay_and_work(app)
    sent = housing_sms(fake_twilio)
    month, day = int(due[5:7]), int(due[8:10])
    for number in (first, second):
        mine = [body for body in sent if number in body]
        assert len(mine) == 1, sent
        assert f"协办：工单{number}由贵州省人力资源和社会保障厅主办" in mine[0]
        assert f"于{month}月{day}日前提交协办意见" in mine[0]
    # The lead department's own notice of the dispatch is not sent to the co-handler.
    assert not any("已转贵单位办理" in body for body in sent)
    assert [m.purpose for m in outbox(first) if m.recipient == HOUSING_E164] == ["dept-notify"]
