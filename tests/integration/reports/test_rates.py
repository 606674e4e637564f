"""Each rate of the report on hand-built cases whose answer is known, edges included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hotline.extensions import db
from hotline.models import PointsEntry, Survey
from hotline.models.types import utcnow

from .conftest import handler, local

OCT12 = local(2026, 10, 12, 9, 30)  # a Monday; due 2026-10-26 (10 working days)


def test_published_zhitongche_figures_come_back_exactly(api, tokens, bulk):
    for code, n in {"general_consult": 3452, "situation": 1281, "policy_consult": 42,
                    "suggestion": 14}.items():
        bulk("zhitongche", {code: n}, local(2026, 10, 15, 10, 0))
    resp = api.get("/stats/summary?period=2026-10&line=zhitongche", tokens.supervisor)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["total"] == 4789
    rows = [(c["name"], c["count"], c["percent"]) for c in body["by_category"]]
    assert rows == [("一般咨询", 3452, 72.08), ("情况反映", 1281, 26.75),
                    ("政策咨询", 42, 0.88), ("意见建议", 14, 0.29)]
    assert sum(Decimal(str(c["percent"])) for c in body["by_category"]) == Decimal("100.00")
    assert body["by_category"][0] == {"line": "zhitongche", "line_name": "服务民营企业省长直通车",
                                      "code": "general_consult", "name": "一般咨询",
                                      "count": 3452, "percent": 72.08}


def test_reply_in_the_last_second_of_the_deadline_day_is_on_time(build, summary):
    just_in = build.replied(OCT12, local(2026, 10, 26, 23, 59, 59, 900000))
    too_late = build.replied(OCT12, local(2026, 10, 27, 0, 0, 0))
    assert just_in.due_date == dt.date(2026, 10, 26) == too_late.due_date
    report = summary()
    assert report["outcome"]["on_time_rate"] == {"value": 50.0, "numerator": 1,
                                                 "denominator": 2}
    assert report["handling"]["replied_on_time"] == 1


def test_an_approved_extension_moves_the_deadline_and_a_refused_one_does_not(build, summary):
    late_reply = local(2026, 10, 29, 10, 0)  # after the 26th, before 2 November
    cases = []
    for approve in (True, False):
        case = build.case(OCT12)
        build.act(case, "dispatch", OCT12, department="gz-hrss")
        build.act(case, "accept", OCT12 + dt.timedelta(hours=1))
        build.act(case, "extension", local(2026, 10, 20, 9, 0), working_days=5,
                  reason="需现场核查工程结算资料")
        build.act(case, "extension-decision", local(2026, 10, 20, 15, 0), approve=approve)
        cases.append(build.act(case, "reply", late_reply, text="已核查并督促结算。"))
    assert cases[0].due_date == dt.date(2026, 11, 2)
    assert cases[1].due_date == dt.date(2026, 10, 26)
    report = summary()
    assert report["outcome"]["on_time_rate"]["value"] == 50.0
    handling = report["handling"]
    assert (handling["extensions_requested"], handling["extensions_approved"],
            handling["extensions_refused"], handling["extension_days_granted"]) == (2, 1, 1, 5)
    hrss = report["departments"][0]
    assert (hrss["code"], hrss["extensions"], hrss["on_time_rate"]) == ("gz-hrss", 1, 50.0)


def test_a_reopened_case_counts_with_its_new_round(build, summary):
    case = build.closed(OCT12, local(2026, 10, 14, 10, 0))
    reopened_at = local(2026, 11, 3, 10, 0)
    build.act(case, "reopen", reopened_at, reason="企业反映工程款仍未到账")
    while_reopened = summary(now=local(2026, 11, 4, 9, 0))
    outcome = while_reopened["outcome"]
    # It was signed for before: it has had its response. It is neither closed nor replied now.
    assert outcome["response_rate"]["value"] == 100.0
    assert outcome["resolution_rate"]["value"] == 0.0
    assert outcome["on_time_rate"]["denominator"] == 0
    assert outcome["reopened"] == 1
    assert while_reopened["handling"]["open_now"] == 1

    build.act(case, "dispatch", reopened_at, department="gz-hrss")
    build.act(case, "accept", reopened_at + dt.timedelta(hours=1))
    db.session.refresh(case)
    new_due = case.due_date
    assert new_due == dt.date(2026, 11, 17)  # 10 working days from the reopening
    build.act(case, "reply", local(2026, 11, 18, 9, 0), text="已到账。")  # a day late
    after = summary(now=local(2026, 11, 20, 9, 0))
    assert after["outcome"]["on_time_rate"] == {"value": 0.0, "numerator": 0, "denominator": 1}
    # Working days count from the reopening (3 Nov) to the reply (18 Nov): 11.
    assert after["handling"]["working_days_to_reply"] == {"average": 11.0, "p90": 11,
                                                          "replies": 1}


def test_cases_belong_to_the_period_by_local_midnight(build, summary):
    build.case(local(2026, 10, 31, 23, 59, 59))  # 15:59:59 UTC: still October in Guiyang
    build.case(local(2026, 11, 1, 0, 0, 0))  # 16:00 UTC on 31 October: November
    build.case(local(2026, 10, 1, 0, 0, 0))  # the first instant of October
    build.case(local(2026, 9, 30, 23, 59, 59))
    october, november = summary("2026-10"), summary("2026-11")
    assert october["total"] == 2
    assert november["total"] == 1
    days = {d["date"]: d["count"] for d in october["by_day"]}
    assert days["2026-10-31"] == 1 and days["2026-10-01"] == 1
    assert summary("2026-W44")["total"] == 2  # 26 Oct - 1 Nov, across the month's end


def test_response_rate_counts_signed_for_and_answered_cases(build, summary):
    signed = build.case(OCT12)
    build.act(signed, "dispatch", OCT12, department="gz-hrss")
    build.act(signed, "accept", OCT12 + dt.timedelta(hours=2))
    answered = build.case(OCT12, category="policy_consult")
    build.act(answered, "answer", OCT12 + dt.timedelta(minutes=5),
              text="民营企业稳岗补贴可向所在地人社部门申请，材料清单已短信发送。")
    waiting = build.case(OCT12)
    build.act(waiting, "dispatch", OCT12, department="gov-520100")
    returned = build.case(OCT12)
    build.act(returned, "dispatch", OCT12, department="gz-housing")
    build.act(returned, "return", OCT12 + dt.timedelta(hours=3),
              actor=handler("gz-housing"), reason="属地管理事项，应由贵阳市办理")
    report = summary()
    assert report["outcome"]["response_rate"] == {"value": 50.0, "numerator": 2,
                                                  "denominator": 4}
    handling = report["handling"]
    assert handling["dispatched"] == 3
    assert handling["returned"] == 1
    assert handling["return_reasons"] == [{"reason": "属地管理事项，应由贵阳市办理", "count": 1}]
    # The answered-on-the-spot case counts as replied (on time) and took 0 working days.
    assert report["outcome"]["on_time_rate"]["value"] == 100.0
    assert handling["working_days_to_reply"]["average"] == 0.0
    # The return is held against the department that returned the case.
    housing = next(d for d in report["departments"] if d["code"] == "gz-housing")
    assert (housing["returned"], housing["assigned"]) == (1, 0)


def test_resolution_rate_is_closed_over_received(build, summary):
    build.closed(OCT12, local(2026, 10, 13, 16, 0))
    build.replied(OCT12, local(2026, 10, 14, 16, 0))
    build.case(OCT12)
    assert summary()["outcome"]["resolution_rate"] == {"value": 33.33, "numerator": 1,
                                                       "denominator": 3}


def test_satisfaction_counts_satisfied_and_basically_satisfied_over_answered(build, summary):
    ratings = ["satisfied", "basically_satisfied", "unsatisfied", None]
    for rating in ratings:
        case = build.closed(OCT12, local(2026, 10, 13, 16, 0))
        db.session.add(Survey(case_id=case.id, channel="sms", sent_at=utcnow(), rating=rating,
                              answered_at=utcnow() if rating else None))
    db.session.commit()
    outcome = summary()["outcome"]
    assert outcome["satisfaction_rate"] == {"value": 66.67, "numerator": 2, "denominator": 3}
    assert outcome["surveys_answered"] == 3
    assert [r["count"] for r in outcome["ratings"]] == [1, 1, 1]


def test_working_days_to_reply_skip_the_national_day_holiday(build, summary):
    # Received on 30 September; 1-7 October are holidays: the 8th is the first working day.
    build.replied(local(2026, 9, 30, 10, 0), local(2026, 10, 8, 11, 0))
    figures = summary("2026-09")["handling"]["working_days_to_reply"]
    assert figures == {"average": 1.0, "p90": 1, "replies": 1}


def test_overdue_now_counts_unanswered_cases_past_their_deadline(build, summary):
    late = build.case(OCT12)
    build.act(late, "dispatch", OCT12, department="gz-hrss")
    build.act(late, "accept", OCT12 + dt.timedelta(hours=1))
    build.replied(OCT12, local(2026, 10, 20, 9, 0))  # answered, waiting for review
    before = summary(now=local(2026, 10, 26, 23, 59, 59))
    after = summary(now=local(2026, 10, 27, 0, 0, 1))
    assert before["handling"]["overdue_now"] == 0
    assert after["handling"]["overdue_now"] == 1
    assert after["departments"][0]["overdue_now"] == 1


def test_departments_are_ranked_on_points_then_on_time_rate(build, summary):
    build.replied(OCT12, local(2026, 10, 13, 9, 0), department="gz-hrss")
    build.replied(OCT12, local(2026, 10, 30, 9, 0), department="gov-520100")  # late
    build.replied(OCT12, local(2026, 10, 14, 9, 0), department="gz-tax")
    db.session.add(PointsEntry(department_code="gz-tax", reason="overdue_after_reminder",
                               points=-2, at=local(2026, 10, 28, 9, 0)))
    db.session.add(PointsEntry(department_code="gz-tax", reason="overdue", points=-1,
                               at=local(2026, 9, 28, 9, 0)))  # another month's deduction
    db.session.commit()
    ranking = summary()["departments"]
    assert [(d["rank"], d["code"], d["points"], d["on_time_rate"]) for d in ranking] == [
        (1, "gz-hrss", 0, 100.0), (2, "gov-520100", 0, 0.0), (3, "gz-tax", -2, 100.0)]
    assert ranking[2]["deductions"] == 1
    by_rate = ranked_by("on_time_rate")
    assert [d["code"] for d in by_rate] == ["gz-hrss", "gz-tax", "gov-520100"]


def ranked_by(rank_by: str) -> list[dict]:
    from hotline.reports.periods import parse_period
    from hotline.reports.scope import Scope
    from hotline.reports.summary import Report

    return Report(Scope(parse_period("2026-10")), now=local(2026, 12, 1)).ranking(rank_by)


def test_filters_narrow_every_figure(build, summary):
    build.replied(OCT12, local(2026, 10, 13, 9, 0), region="520102", channel="wechat")
    build.replied(OCT12, local(2026, 10, 13, 9, 0), line="fupin", category="hardship",
                  region="520526")
    assert summary(line="fupin")["total"] == 1
    assert summary(region="520100")["by_region"] == [
        {"code": "520100", "name": "贵阳市", "count": 1, "percent": 100.0}]
    assert summary(channel="wechat")["by_channel"][0]["name"] == "微信"
    assert summary(category="hardship")["by_category"][0]["name"] == "困难诉求"
    assert summary(department="gz-hrss")["total"] == 2
    assert summary(department="gz-tax")["total"] == 0


def test_points_of_a_line_report_follow_the_case_and_keep_manual_entries(build, summary):
    zt = build.replied(OCT12, local(2026, 10, 30, 9, 0), department="gz-hrss")
    fp = build.replied(OCT12, local(2026, 10, 30, 9, 0), department="gz-hrss", line="fupin",
                       category="hardship")
    at = local(2026, 10, 28, 9, 0)
    db.session.add_all([
        PointsEntry(department_code="gz-hrss", case_id=zt.id, reason="overdue", points=-1, at=at),
        PointsEntry(department_code="gz-hrss", case_id=fp.id, reason="overdue", points=-2, at=at),
        PointsEntry(department_code="gz-hrss", reason="commendation", points=1, at=at),
    ])
    db.session.commit()
    assert summary(line="zhitongche")["departments"][0]["points"] == 0  # -1 + 1
    assert summary(line="fupin")["departments"][0]["points"] == -1  # -2 + 1
    assert summary()["departments"][0]["points"] == -2
