"""The supervision sweep (催办/督办/积分) with a real Redis and real RQ workers: each deadline gets
one reminder and one escalation however often the sweep runs, on the case's timeline, in the
supervisor's lists and in the departments' points ledger."""

from __future__ import annotations

import datetime as dt
import threading

from click.testing import CliRunner
from redis import Redis
from rq import Queue
from sqlalchemy import event, select, update

from hotline.domain.deadlines import PROVINCE_TZ
from hotline.extensions import db
from hotline.models import Case, Category, PointsEntry
from hotline.services import work_calendar
from workers import jobs
from workers.sweeps import remind_surveys, sweep

from .conftest import outbox, work

# Received on Monday 2 November 2026: signing due Tuesday 3 November, answer due Monday
# 16 November (10 working days), the reminder two working days before, on Thursday 12 November.
RECEIVED = "2026-11-02T09:30:00+08:00"


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00").replace(tzinfo=PROVINCE_TZ)


def events(api, tokens, number: str, *actions: str) -> list[dict]:
    timeline = api.get(f"/cases/{number}", tokens.supervisor).get_json()["events"]
    return [e for e in timeline if e["action"] in actions]


def points() -> list[tuple[str, str, int]]:
    db.session.expire_all()
    rows = db.session.scalars(select(PointsEntry).order_by(PointsEntry.id)).all()
    return [(p.department_code, p.reason, p.points) for p in rows]


def accepted_case(new_case, step, **overrides) -> dict:
    case = new_case(received_at=RECEIVED, **overrides)
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    step(case["number"], "accept", as_="handler")
    return case


def queue_sweeps(app, *moments: dt.datetime) -> None:
    with Redis.from_url(app.config["REDIS_URL"]) as connection:
        queue = Queue("default", connection=connection)
        for moment in moments:
            queue.enqueue(jobs.sweep_deadlines, moment.isoformat())


def test_case_past_its_reminder_and_deadline_gets_one_reminder_and_one_escalation(
        new_case, step, app, api, tokens):
    case = accepted_case(new_case, step)
    assert case["due_date"] == "2026-11-16"

    queue_sweeps(app, at("2026-11-11"), *[at("2026-11-12")] * 3, at("2026-11-16", "23:00"),
                 *[at("2026-11-17", "00:05")] * 3, at("2026-11-20"))
    work(app)
    queue_sweeps(app, at("2026-11-12"), at("2026-11-18"))  # late duplicates change nothing
    work(app)

    reminders = events(api, tokens, case["number"], "remind")
    escalations = events(api, tokens, case["number"], "escalate")
    assert [e["note"] for e in reminders] == ["催办：办理时限 2026-11-16，请抓紧办理并按时答复"]
    assert [e["note"] for e in escalations] == ["督办：已超过办理时限 2026-11-16，未答复，转督办"]
    assert reminders[0]["at"].startswith("2026-11-12T10:00")
    assert escalations[0]["at"].startswith("2026-11-17T00:05")
    assert escalations[0]["data"] == {"kind": "escalate_reply", "deadline": "2026-11-16",
                                      "department": "gz-hrss"}
    assert points() == [("gz-hrss", "overdue_after_reminder", -5)]


def test_overdue_case_never_reminded_loses_the_smaller_deduction(new_case, step, app, api,
                                                                 tokens):
    case = accepted_case(new_case, step)
    report = sweep(at("2026-11-17"))

    assert report.counts["escalate_reply"] == 1 and report.counts["remind_reply"] == 0
    assert events(api, tokens, case["number"], "remind") == []
    assert points() == [("gz-hrss", "overdue", -2)]


def test_case_not_signed_for_is_reminded_on_its_signing_day_and_escalated_after(
        new_case, step, app, api, tokens):
    case = new_case(received_at=RECEIVED)
    step(case["number"], "dispatch", {"department": "gz-hrss"})

    assert sweep(at("2026-11-02", "18:00")).counts["remind_accept"] == 0
    assert sweep(at("2026-11-03", "08:00")).counts["remind_accept"] == 1
    assert sweep(at("2026-11-04", "08:00")).counts["escalate_accept"] == 1
    sweep(at("2026-11-05"))

    notes = [e["note"] for e in events(api, tokens, case["number"], "remind", "escalate")]
    assert notes == ["催办：请于签收时限 2026-11-03 前签收", "督办：超过签收时限 2026-11-03 仍未签收"]
    assert points() == [("gz-hrss", "accept_overdue", -1)]


def test_approved_extension_moves_the_deadline_and_gets_its_own_reminder(
        new_case, step, app, api, tokens):
    case = accepted_case(new_case, step)
    sweep(at("2026-11-12"))
    step(case["number"], "extension", {"working_days": 5, "reason": "需协调区财政局资金"},
         as_="handler")
    moved = step(case["number"], "extension-decision", {"approve": True}, as_="supervisor")
    assert moved["due_date"] == "2026-11-23"

    assert sweep(at("2026-11-17")).counts["escalate_reply"] == 0
    assert sweep(at("2026-11-19")).counts["remind_reply"] == 1
    notes = [e["note"] for e in events(api, tokens, case["number"], "remind")]
    assert notes == ["催办：办理时限 2026-11-16，请抓紧办理并按时答复",
                     "催办：办理时限 2026-11-23，请抓紧办理并按时答复"]


def test_category_reminder_lead_decides_when_the_reminder_comes(new_case, step, app):
    db.session.execute(update(Category).where(Category.code == "situation")
                       .values(remind_days=5))
    db.session.commit()
    accepted_case(new_case, step)

    assert sweep(at("2026-11-06")).counts["remind_reply"] == 0
    assert sweep(at("2026-11-09")).counts["remind_reply"] == 1


def test_case_the_hotline_centre_still_holds_is_escalated_without_costing_a_department(
        new_case, app, api, tokens):
    case = new_case(received_at=RECEIVED)
    report = sweep(at("2026-11-17"))

    assert report.counts == {"remind_accept": 0, "escalate_accept": 0, "remind_reply": 0,
                             "escalate_reply": 1}
    assert len(events(api, tokens, case["number"], "escalate")) == 1
    assert points() == []


def test_answered_and_closed_cases_are_left_alone(closed_case, new_case, step, app):
    closed_case(received_at=RECEIVED)
    replied = accepted_case(new_case, step)
    step(replied["number"], "reply", {"text": "已答复。"}, as_="handler")

    report = sweep(at("2026-11-17"))
    assert sum(report.counts.values()) == 0


def test_two_sweeps_at_the_same_moment_write_each_step_once(new_case, step, app, api, tokens):
    cases = [accepted_case(new_case, step) for _ in range(5)]
    moment = at("2026-11-17")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                sweep(moment)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    for case in cases:
        assert len(events(api, tokens, case["number"], "escalate")) == 1
    assert len(points()) == 5


def test_sweep_is_a_fixed_number_of_statements_however_many_cases_are_open(new_case, step, app):
    def statements_for_sweep(moment: dt.datetime) -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            if " cases" in statement:  # what reads the cases table (not pool or calendar noise)
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            sweep(moment)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    accepted_case(new_case, step)
    few = statements_for_sweep(at("2026-11-17"))
    for _ in range(12):
        accepted_case(new_case, step)
    many = statements_for_sweep(at("2026-11-18"))
    # One INSERT … SELECT per kind, the marks noted on the cases, then the timeline, the points
    # and the departments' notices, whatever the numbers.
    assert many == few == 8


def test_supervisor_sees_overdue_and_due_soon_cases_with_what_the_sweep_did(
        new_case, step, app, api, tokens):
    now = dt.datetime.now(dt.UTC)
    calendar = work_calendar()
    today = now.astimezone(PROVINCE_TZ).date()
    late = accepted_case(new_case, step)  # received in November 2026: long overdue now
    # One received so that its answer is due on the next working day.
    received = today
    while calendar.add_working_days(received, 10).date > calendar.add_working_days(today, 1).date:
        received -= dt.timedelta(days=1)
    soon = new_case(received_at=dt.datetime.combine(received, dt.time(9),
                                                     tzinfo=PROVINCE_TZ).isoformat())
    step(soon["number"], "dispatch", {"department": "gov-520100"})
    sweep()

    overdue = api.get("/supervision/overdue", tokens.supervisor).get_json()
    assert [c["number"] for c in overdue["items"]] == [late["number"]]
    info = overdue["items"][0]["supervision"]
    assert info["escalate_reply_at"] is not None and info["working_days_overdue"] > 0

    due = api.get("/supervision/due-soon", tokens.supervisor).get_json()
    assert [c["number"] for c in due["items"]] == [soon["number"]]
    assert due["items"][0]["supervision"]["remind_reply_at"] is not None
    assert due["items"][0]["supervision"]["working_days_left"] <= 1

    # A handler sees its own department's only, and no other department's on asking: the list
    # is narrowed to its own, like every list (docs/roles.md), not refused.
    own = api.get("/supervision/overdue", tokens.handler).get_json()
    assert [c["number"] for c in own["items"]] == [late["number"]]
    assert api.get("/supervision/due-soon", tokens.handler).get_json()["items"] == []
    asked = api.get("/supervision/overdue?department=gov-520100", tokens.handler)
    assert asked.status_code == 200
    assert [c["number"] for c in asked.get_json()["items"]] == [late["number"]]
    assert {c["department"] for c in asked.get_json()["items"]} == {"gz-hrss"}


def test_points_ledger_totals_departments_lowest_first(new_case, step, app, api, tokens):
    accepted_case(new_case, step)
    accepted_case(new_case, step)
    other = new_case(received_at=RECEIVED)
    step(other["number"], "dispatch", {"department": "gov-520100"})
    sweep(at("2026-11-12"))
    sweep(at("2026-11-17"))

    ledger = api.get("/supervision/points?from=2026-11-01&to=2026-11-30",
                     tokens.supervisor).get_json()
    assert [(d["department"], d["points"], d["entries"]) for d in ledger["departments"]] == \
        [("gz-hrss", -10, 2), ("gov-520100", -6, 2)]
    detail = api.get("/supervision/points?department=gov-520100",
                     tokens.supervisor).get_json()
    assert sorted(e["reason"] for e in detail["entries"]) == ["accept_overdue",
                                                               "overdue_after_reminder"]
    empty = api.get("/supervision/points?from=2026-12-01", tokens.supervisor).get_json()
    assert empty["departments"] == []


def test_hotline_sweep_command_sweeps_once_and_says_what_it_did(new_case, step, app,
                                                               monkeypatch):
    from hotline.cli import main

    case = accepted_case(new_case, step)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", app.instance_path)
    runner = CliRunner()
    first = runner.invoke(main, ["sweep", "--at", "2026-11-17T09:00"])
    again = runner.invoke(main, ["sweep", "--at", "2026-11-17T09:00+08:00"])

    assert first.exit_code == 0, first.output
    assert '"escalate_reply": 1' in first.output
    assert '"escalate_reply": 0' in again.output
    db.session.expire_all()
    assert db.session.get(Case, db.session.scalar(
        select(Case.id).where(Case.number == case["number"]))).status == "accepted"


def test_unanswered_survey_is_reminded_once_by_the_same_channel(closed_case, app, fake_twilio):
    case = closed_case()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=73)

    assert remind_surveys(dt.datetime.now(dt.UTC) + dt.timedelta(hours=71)) == 0
    assert remind_surveys(later) == 1
    assert remind_surveys(later + dt.timedelta(days=3)) == 0
    work(app)

    reminders = [m for m in outbox(case["number"]) if m.purpose == "remind"]
    assert len(reminders) == 1 and reminders[0].status == "sent"
    assert "满意度评价尚未收到" in reminders[0].text and "/survey/" in reminders[0].text
    assert sum("满意度评价尚未收到" in m["body"] for m in fake_twilio.messages) == 1


def test_deductions_a_late_sweep_writes_after_a_month_end_count_in_the_month_they_were_missed(
        new_case, step, app, api, tokens):
    # Answer due Monday 30 November; signing of the second due the same day (received Friday
    # 27th). The worker is down over the month's end; the first sweep after runs on 3 December.
    late_answer = new_case(received_at="2026-11-16T09:00:00+08:00")
    step(late_answer["number"], "dispatch", {"department": "gz-hrss"})
    step(late_answer["number"], "accept", as_="handler")
    unsigned = new_case(received_at="2026-11-27T09:00:00+08:00")
    step(unsigned["number"], "dispatch", {"department": "gov-520100"})
    assert (late_answer["due_date"], unsigned["accept_due_date"]) == ("2026-11-30", "2026-11-30")

    sweep(at("2026-12-03", "09:00"))

    november = api.get("/supervision/points?from=2026-11-01&to=2026-11-30",
                       tokens.supervisor).get_json()
    assert [(d["department"], d["points"]) for d in november["departments"]] == \
        [("gz-hrss", -2), ("gov-520100", -1)]
    december = api.get("/supervision/points?from=2026-12-01&to=2026-12-31",
                       tokens.supervisor).get_json()
    assert december["departments"] == []
    detail = api.get("/supervision/points?department=gz-hrss", tokens.supervisor).get_json()
    assert [e["at"] for e in detail["entries"]] == ["2026-11-30T23:59:59+08:00"]


def test_a_case_escalated_once_is_escalated_again_when_its_reopened_deadline_passes(
        new_case, step, app, api, tokens):
    case = accepted_case(new_case, step)
    assert sweep(at("2026-11-17")).counts["escalate_reply"] == 1
    assert sweep(at("2026-11-18")).counts["escalate_reply"] == 0  # passed over, not repeated
    step(case["number"], "reply", {"text": "已协调施工方支付拖欠工资。"}, as_="handler")
    step(case["number"], "review", {"approve": True})
    step(case["number"], "close", {})
    reopened = step(case["number"], "reopen", {"reason": "群众反映工资仍未到账"},
                    as_="supervisor")
    new_due = dt.date.fromisoformat(reopened["due_date"])

    after = dt.datetime.combine(new_due + dt.timedelta(days=1), dt.time(10),
                                tzinfo=PROVINCE_TZ)
    assert sweep(after).counts["escalate_reply"] == 1
    assert sweep(after + dt.timedelta(hours=1)).counts["escalate_reply"] == 0
    notes = [e["note"] for e in events(api, tokens, case["number"], "escalate")
             if "办理时限" in e["note"]]
    assert notes == ["督办：已超过办理时限 2026-11-16，未答复，转督办",
                     f"督办：已超过办理时限 {new_due}，未答复，转督办"]
