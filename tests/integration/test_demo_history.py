"""`hotline seed-demo --history DAYS`: a believable past made through the real case lifecycle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hotline.cli import main
from hotline.demo import HISTORY_KEY
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.lifecycle import Kind, Status
from hotline.extensions import db
from hotline.models import Case, OutboxMessage
from hotline.models.types import utcnow

HANDLED_IN_ORDER = ["dispatch", "accept", "reply", "review", "close"]
STILL_WITH_DEPARTMENT = (Status.DISPATCHED, Status.ACCEPTED, Status.RETURNED, Status.REOPENED,
                         Status.RECEIVED)
#: The histories made at fixed moments: eight days (cases still open, closed and rated) of a
#: seed whose history made just after midnight in Beijing had a step drawn before the one
#: before it (taken out of order until the writer kept each timeline in order).
SHORT_HISTORY_DAYS, SHORT_HISTORY_SEED = 8, 1


def _seed(app: Any, tmp_path: Path, *args: str):
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HOTLINE_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret"}
    return CliRunner().invoke(main, ["seed-demo", *args], env=env)


def test_history_of_30_days_is_a_believable_past_made_once(app, api, tokens, tmp_path: Path):
    result = _seed(app, tmp_path, "--history", "30")
    assert result.exit_code == 0, result.output
    assert "demo history of 30 days" in result.output
    now = utcnow()

    db.session.expire_all()
    cases = db.session.scalars(
        select(Case).where(Case.idempotency_key.like(HISTORY_KEY + "%"))).all()
    days = {c.received_at.astimezone(PROVINCE_TZ).date() for c in cases}
    today = now.astimezone(PROVINCE_TZ).date()
    assert len(cases) > 150
    assert min(days) <= today - dt.timedelta(days=28) and max(days) >= today - dt.timedelta(days=2)
    assert {c.line.code for c in cases} == {"fupin", "zhitongche", "board"}
    assert any("扶贫" in c.content or "低保" in c.content for c in cases)

    # Every step is in the past and in time order; a closed 转办件 went the whole way.
    closed_handled = 0
    for case in cases:
        moments = [e.at for e in case.events]
        assert moments == sorted(moments), case.number
        assert moments[0] == case.received_at and moments[-1] <= now
        if case.status == Status.CLOSED and case.kind == Kind.HANDLE:
            actions = [e.action for e in case.events]
            # The last round (a reopened case goes round again) went the whole way in order.
            lasts = [len(actions) - 1 - actions[::-1].index(a) for a in HANDLED_IN_ORDER]
            assert lasts == sorted(lasts), (case.number, actions)
            closed_handled += 1
    assert closed_handled > 50

    # The present has open cases past their deadline, and others coming due.
    overdue = [c for c in cases if c.status in STILL_WITH_DEPARTMENT and c.due_at < now]
    assert overdue
    assert any(c.status != Status.CLOSED and c.due_at >= now for c in cases)

    # Consenting board writers' letters are on the public board, masked.
    board = api.get("/api/v1/public/board?per_page=50").get_json()
    assert board["total"] > 0
    by_number = {c.number: c for c in cases}
    for item in board["items"]:
        case = by_number[item["number"]]
        assert case.public_consent and case.status == Status.CLOSED
        assert case.citizen_phone not in item["question"] + item["answer"]

    # The period's report has responses and satisfied citizens.
    period = {"from": (today - dt.timedelta(days=30)).isoformat(), "to": today.isoformat()}
    summary = api.get("/stats/summary", tokens.supervisor, query_string=period).get_json()
    assert summary["total"] == len(cases)
    assert summary["outcome"]["response_rate"]["value"] > 0
    assert summary["outcome"]["satisfaction_rate"]["value"] > 0

    # What the follow-up wrote for citizens about these past events never goes out.
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages and {m.status for m in messages} == {"cancelled"}
    assert all(m.created_at < now for m in messages)
    # Nor does the survey sweep remind anyone of a survey from the past.
    from workers.sweeps import remind_surveys

    assert remind_surveys(now + dt.timedelta(days=7)) == 0
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == len(messages)

    from hotline.models import CaseEvent

    events = db.session.scalar(select(db.func.count(CaseEvent.id)))
    again = _seed(app, tmp_path, "--history", "30")
    assert again.exit_code == 0, again.output
    assert "already present" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(Case.id))) == len(cases)
    # Made once: the second run writes no step either (a wall-clock limit here only measured
    # how loaded the machine was; speed is bench/'s business).
    assert db.session.scalar(select(db.func.count(CaseEvent.id))) == events


def test_history_is_only_for_the_demo_of_hotline_run():
    result = CliRunner().invoke(main, ["run", "--history", "30"])
    assert result.exit_code == 2 and "--history goes with --demo" in result.output


def test_history_that_fails_half_way_leaves_nothing_to_block_the_next_run(app, monkeypatch):
    from hotline.demo import history

    def fail(writer) -> None:
        raise RuntimeError("interrupted after the last case")

    monkeypatch.setattr(history._HistoryWriter, "count_present", fail)
    with pytest.raises(RuntimeError):
        history.seed_history(3)
    assert history.history_cases() == 0
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0

    monkeypatch.undo()
    assert history.seed_history(3).cases == history.history_cases() > 0


@pytest.mark.parametrize("now", [
    # 00:05 in Beijing (16:05 UTC): the local day has just begun; made then, the 30-day history
    # of the seed had one case whose fourth step came an hour before its third.
    dt.datetime(2026, 12, 7, 16, 5, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC),  # 09:30 on a Monday, the weekend behind
    # 08:30 on the first working day after the National Day holiday (1-7 October).
    dt.datetime(2026, 10, 8, 0, 30, tzinfo=dt.UTC),
], ids=["just-after-midnight-in-beijing", "monday-morning", "day-after-a-holiday"])
def test_a_history_made_at_any_moment_has_every_step_in_order_and_in_its_past(app, now):
    from hotline.demo import seed_history

    report = seed_history(SHORT_HISTORY_DAYS, seed=SHORT_HISTORY_SEED, now=now)
    cases = db.session.scalars(
        select(Case).where(Case.idempotency_key.like(HISTORY_KEY + "%"))).all()
    assert report.cases == len(cases) > 10
    for case in cases:
        moments = [e.at for e in case.events]
        assert moments == sorted(moments), (case.number, [(e.action, e.at) for e in case.events])
        assert moments[0] == case.received_at and moments[-1] < now, case.number
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages and all(m.created_at < now for m in messages)
    assert {m.status for m in messages} == {"cancelled"}
