"""Phones are stored as E.164 however they were typed, and the numbers stored before that
(as typed: 138 0013 8000, 0851-86812345) are converted by revision 0961_phones_e164 — after
which every look-up by phone still finds them: the staff's phone search, the citizen's status
look-up with the whole number, an SMS from the citizen's mobile, the line a call was made to."""

from __future__ import annotations

from sqlalchemy import select, update

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


def _write_as_before(number: str, phone: str | None) -> None:
    db.session.execute(update(Case).where(Case.number == number)
                       .values(citizen_phone=phone, citizen_phone_key=None))


def test_numbers_stored_as_typed_are_converted_and_still_found(app, api, tokens, new_case,
                                                             phones_migration):
    mobile = new_case(citizen={"name": "王建国", "phone": "13800138000"})["number"]
    landline = new_case(citizen={"name": "张国强", "phone": "0851-86812345"})["number"]
    nothing = new_case(citizen={"name": "李秀英", "phone": "13700001111"})["number"]
    _write_as_before(mobile, "138 0013 8000")
    _write_as_before(landline, "0851-86812345")
    _write_as_before(nothing, "无")
    case_id = db.session.scalar(select(Case.id).where(Case.number == landline))
    db.session.add(CallbackTask(case_id=case_id, kind="survey", line_code="fupin"))
    db.session.flush()
    db.session.execute(update(CallbackTask).values(phone="0851-86812345"))
    db.session.execute(update(Line).where(Line.code == "zhitongche")
                       .values(phone_number="0851 8689 4627"))

    phones_migration()

    stored = dict(db.session.execute(select(Case.number, Case.citizen_phone)).all())
    assert stored == {mobile: "+8613800138000", landline: "+8685186812345", nothing: "无"}
    keys = set(db.session.scalars(select(Case.citizen_phone_key)))
    assert keys == {"13800138000", "85186812345", None}
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


def test_the_migration_leaves_numbers_already_e164_as_they_are(new_case, phones_migration):
    number = new_case(citizen={"name": "王建国", "phone": "+8613985012345"})["number"]
    phones_migration()
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert (case.citizen_phone, case.citizen_phone_key) == ("+8613985012345", "13985012345")
