"""Phones are stored as E.164 however they were typed (the one rule: hotline/domain/phones.py,
applied by the models), and every look-up by phone finds them whatever spelling it is given:
the staff's phone search, the citizen's status look-up with the whole number or its tail, an
SMS from the citizen's mobile, the line a call was made to."""

from __future__ import annotations

from sqlalchemy import select

from channels.phone.calls import line_for_number
from channels.phone.sms import status_reply
from hotline.extensions import db
from hotline.models import CallbackTask, Case, Line


def test_a_case_typed_with_any_spelling_is_stored_and_answered_as_e164(api, tokens, new_case):
    made = new_case(citizen={"name": "王建国", "phone": "+86 138-0013-8000"})
    assert made["citizen"]["phone"] == "+8613800138000"
    landline = new_case(citizen={"name": "张国强", "phone": "0851 8681 2345"})
    assert landline["citizen"]["phone"] == "+8685186812345"
    found = api.get("/cases", tokens.operator, query_string={"phone": "13800138000"})
    assert [c["number"] for c in found.get_json()["items"]] == [made["number"]]


def test_numbers_typed_as_clerks_write_them_are_found_by_any_spelling(app, api, tokens,
                                                                     new_case):
    mobile = new_case(citizen={"name": "王建国", "phone": "138 0013 8000"})["number"]
    landline = new_case(citizen={"name": "张国强", "phone": "0851-86812345"})["number"]
    case_id = db.session.scalar(select(Case.id).where(Case.number == landline))
    db.session.add(CallbackTask(case_id=case_id, kind="survey", line_code="fupin",
                                phone="0851-86812345"))
    db.session.scalar(select(Line).where(Line.code == "zhitongche")).phone_number = "0851 8689 4627"
    db.session.commit()

    stored = dict(db.session.execute(select(Case.number, Case.citizen_phone)).all())
    assert stored == {mobile: "+8613800138000", landline: "+8685186812345"}
    keys = set(db.session.scalars(select(Case.citizen_phone_key)))
    assert keys == {"13800138000", "85186812345"}
    assert db.session.scalar(select(CallbackTask.phone)) == "+8685186812345"
    assert line_for_number("+8685186894627").code == "zhitongche"

    for typed in ("13800138000", "+86 138-0013-8000", "8613800138000"):
        found = api.get("/cases", tokens.operator, query_string={"phone": typed}).get_json()
        assert [c["number"] for c in found["items"]] == [mobile], typed
    found = api.get("/cases", tokens.operator, query_string={"phone": "085186812345"})
    assert [c["number"] for c in found.get_json()["items"]] == [landline]

    public = api.get(f"/public/cases/{mobile}", query_string={"phone": "138 0013 8000"})
    assert public.status_code == 200 and public.get_json()["number"] == mobile
    assert api.get(f"/public/cases/{landline}",
                   query_string={"phone_tail": "2345"}).status_code == 200

    assert status_reply(mobile, "+8613800138000").startswith(f"工单 {mobile}")
    assert "未查询到" in status_reply(mobile, "+8613800138001")
