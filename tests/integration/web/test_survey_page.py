"""The survey page reached by the signed link of the callback (回访): the citizen rates the
result once; the answer is on the case's timeline; a forged link shows nothing."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.models import Case, Survey
from hotline.surveys import survey_link, survey_token

from .conftest import csrf_of


@pytest.fixture
def survey(closed_case):
    case = closed_case()
    row = Survey(case_id=db.session.query(Case).filter_by(number=case["number"]).one().id,
                 round=1, channel="sms", recipient="13985012345")
    db.session.add(row)
    db.session.commit()
    return row


def test_link_opens_the_survey_with_the_case_and_its_answer(browser, survey):
    path = survey_link(survey).split("//", 1)[1].split("/", 1)[1]
    resp = browser.get("/" + path)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert survey.case.number in html and "满意度评价" in html
    assert "区住建局已于11月25日约谈施工单位" in html
    for label in ("满意", "基本满意", "不满意"):
        assert label in html
    assert "张建华" not in html


def test_answer_on_the_page_is_recorded_on_the_timeline(browser, api, tokens, survey):
    token = survey_token(survey)
    page = browser.get(f"/survey/{token}").get_data(as_text=True)
    resp = browser.post(f"/survey/{token}", data={"csrf_token": csrf_of(page),
                                                   "rating": "unsatisfied",
                                                   "comment": "晚上十点后还是有施工"})
    assert resp.status_code == 200
    assert "感谢您的评价" in resp.get_data(as_text=True)
    db.session.refresh(survey)
    assert survey.rating == "unsatisfied" and survey.answer_channel == "web"
    timeline = api.get(f"/cases/{survey.case.number}", tokens.supervisor).get_json()["events"]
    assert timeline[-1]["action"] == "survey"
    assert timeline[-1]["data"]["label"] == "不满意"
    assert timeline[-1]["note"] == "晚上十点后还是有施工"
    again = browser.get(f"/survey/{token}").get_data(as_text=True)
    assert "您已评价" in again and "<form class=\"survey\"" not in again


def test_a_second_answer_is_refused(browser, survey):
    token = survey_token(survey)
    page = browser.get(f"/survey/{token}").get_data(as_text=True)
    first = browser.post(f"/survey/{token}", data={"csrf_token": csrf_of(page),
                                                    "rating": "satisfied"})
    second = browser.post(f"/survey/{token}", data={"csrf_token": csrf_of(page),
                                                     "rating": "unsatisfied"})
    assert (first.status_code, second.status_code) == (200, 409)
    db.session.refresh(survey)
    assert survey.rating == "satisfied"


def test_a_page_post_without_a_rating_asks_for_one(browser, survey):
    token = survey_token(survey)
    page = browser.get(f"/survey/{token}").get_data(as_text=True)
    resp = browser.post(f"/survey/{token}", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 400 and "请选择满意" in resp.get_data(as_text=True)


def test_forged_link_shows_nothing(browser, api, survey):
    token = survey_token(survey)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert browser.get(f"/survey/{forged}").status_code == 404
    assert api.get(f"/public/surveys/{forged}").status_code == 404


def test_survey_by_the_json_api(api, survey):
    token = survey_token(survey)
    got = api.get(f"/public/surveys/{token}").get_json()
    assert got["answered"] is False and got["number"] == survey.case.number
    resp = api.post(f"/public/surveys/{token}", json={"rating": "basically_satisfied",
                                                      "comment": "处理得还算及时"})
    assert resp.status_code == 200 and resp.get_json()["rating"] == "basically_satisfied"
    assert api.post(f"/public/surveys/{token}", json={"rating": "satisfied"}).status_code == 409
    assert api.post(f"/public/surveys/{token}", json={"rating": "good"}).status_code == 400


def test_link_of_a_survey_whose_case_was_reopened_says_so_and_takes_no_answer(
        browser, api, tokens, reopened_case):
    case = reopened_case()
    [survey] = db.session.query(Survey).all()  # sent at closing with its link, never answered
    token = survey_token(survey)

    page = browser.get(f"/survey/{token}").get_data(as_text=True)
    assert "重新交办" in page and "<form class=\"survey\"" not in page
    # A page opened before the reopening, sent after it: the form of this browser's session.
    form = browser.get("/status").get_data(as_text=True)
    posted = browser.post(f"/survey/{token}", data={"csrf_token": csrf_of(form),
                                                     "rating": "unsatisfied"})
    assert posted.status_code == 409 and "重新交办" in posted.get_data(as_text=True)

    assert api.get(f"/public/surveys/{token}").get_json()["closed"] is True
    late = api.post(f"/public/surveys/{token}", json={"rating": "unsatisfied",
                                                      "comment": "还没付款"})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "survey_closed"
    assert "重新交办" in late.get_json()["error"]["message"]

    db.session.expire_all()
    assert survey.rating is None
    events = api.get(f"/cases/{case['number']}", tokens.supervisor).get_json()["events"]
    assert [e["action"] for e in events].count("survey") == 0
