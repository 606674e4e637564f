"""The working-day calendar per year through the API, and what an admin's year does to cases."""

from __future__ import annotations

from ..conftest import CASE


def test_calendar_of_a_published_year_comes_from_the_package(api, tokens):
    body = api.get("/calendar/2026", tokens.operator).get_json()
    assert body["source"].startswith("chinesecalendar") and body["published"]
    assert "2026-10-01" in body["holidays"] and "2026-10-10" in body["workdays"]


def test_unpublished_year_says_so(api, tokens):
    body = api.get("/calendar/2027", tokens.operator).get_json()
    assert body["source"] is None and body["published"] is False and body["holidays"] == []


def test_admin_sets_next_year_and_provisional_deadlines_become_firm(api, tokens):
    # A category with a 45-working-day limit: a case of 2 November 2026 falls due in 2027,
    # whose schedule the State Council has not published in the packaged calendar.
    api.patch("/lines/zhitongche/categories/situation", tokens.admin, {"reply_days": 45})
    received = {**CASE, "received_at": "2026-11-02T10:00:00+08:00"}
    case = api.post("/cases", tokens.operator, received).get_json()
    assert case["deadline_provisional"] is True and case["due_date"] == "2027-01-04"

    year = {"holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09",
                         "2027-02-10", "2027-02-11"],
            "workdays": ["2027-02-06", "2027-02-20"]}
    assert api.put("/calendar/2027", tokens.supervisor, year).status_code == 403
    r = api.put("/calendar/2027", tokens.admin, year)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["source"] == "admin" and r.get_json()["cases_recounted"] == 1
    assert api.get("/calendar/2027", tokens.operator).get_json()["workdays"] == [
        "2027-02-06", "2027-02-20"]

    again = api.get(f"/cases/{case['number']}", tokens.operator).get_json()
    # 1 January 2027 is now a holiday: one more day.
    assert again["deadline_provisional"] is False and again["due_date"] == "2027-01-05"
    assert again["events"][-1]["action"] == "deadline"

    later = api.post("/cases", tokens.operator, received).get_json()
    assert later["deadline_provisional"] is False and later["due_date"] == "2027-01-05"


def test_admin_may_correct_a_published_year(api, tokens):
    r = api.put("/calendar/2026", tokens.admin, {"holidays": ["2026-11-02"], "workdays": []})
    assert r.status_code == 200 and r.get_json()["source"] == "admin"
    case = api.post("/cases", tokens.operator,
                    {**CASE, "received_at": "2026-10-30T10:00:00+08:00"}).get_json()
    assert case["accept_due_date"] == "2026-11-03"


def test_invalid_calendar_is_refused_and_changes_nothing(api, tokens):
    for body, field in (
        ({"holidays": ["2028-01-01"], "workdays": []}, "holidays"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-04"]}, "workdays"),  # a Monday
        ({"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, "workdays"),
        ({"holidays": ["not a date"], "workdays": []}, "holidays"),
        ({"holidays": []}, "workdays"),
    ):
        r = api.put("/calendar/2027", tokens.admin, body)
        assert r.status_code == 400 and field in r.get_json()["error"]["fields"], r.get_json()
    assert api.get("/calendar/2027", tokens.operator).get_json()["source"] is None
