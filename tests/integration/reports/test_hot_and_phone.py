"""Hot issues against the previous period, 并单 candidates, and the phone figures."""

from __future__ import annotations

import datetime as dt

from hotline.extensions import db
from hotline.models import CallbackTask, Line
from hotline.reports.hot import hot_issues
from hotline.reports.periods import parse_period
from hotline.reports.phone import phone_figures
from hotline.reports.scope import Scope

from .conftest import local

WAGES = "{name}反映：在毕节市威宁县某工地务工，包工头拖欠农民工工资八千元，春节前至今未发。"
ROAD = "{name}反映：赫章县某村通组公路修到一半停工，雨天泥泞无法出行，希望尽快复工。"


def test_a_topic_rising_against_last_month_is_a_hot_issue(app, build):
    for i in range(2):
        build.case(local(2026, 9, 10 + i, 9, 0), content=WAGES.format(name=f"村民{i}"),
                   topic1="劳动和社会保障", topic2="工资福利", region="520526")
    for i in range(6):  # last month was mostly about roads
        build.case(local(2026, 9, 14 + i, 9, 0), content=ROAD.format(name=f"村民{i}"),
                   topic1="交通运输", topic2="公路建设", region="520527")
    for i in range(6):
        build.case(local(2026, 10, 10 + i, 9, 0), content=WAGES.format(name=f"工人{i}"),
                   topic1="劳动和社会保障", topic2="工资福利", region="520526",
                   citizen={"phone": f"1398501{i:04d}"})
    build.case(local(2026, 10, 11, 9, 0), content=ROAD.format(name="王大爷"),
               topic1="交通运输", topic2="公路建设", region="520527")
    hot = hot_issues(Scope(parse_period("2026-10")))
    assert hot["previous_period"]["label"] == "2026-09"
    assert hot["topics"][0] == {"topic": "劳动和社会保障/工资福利", "count": 6, "previous": 2,
                                "increase": 4, "change": 200.0}
    # Wages went from 2 of 8 letters to 6 of 7: their words rise; 公路 fell and is not there.
    terms = {t["term"]: t for t in hot["terms"]}
    assert {"拖欠", "农民工工资"} <= set(terms)
    assert terms["拖欠"]["cases"] == 6 and terms["拖欠"]["previous"] == 2
    assert "公路" not in terms
    cluster = hot["clusters"][0]
    # Six workers wrote about the same unpaid site: one matter to merge (并单).
    assert (cluster["size"], cluster["callers"], cluster["region"]) == (6, 6, "520526")
    assert cluster["topic"] == "劳动和社会保障/工资福利"
    assert all(c["size"] >= 2 for c in hot["clusters"])
    assert not any("公路" in c["sample"] for c in hot["clusters"])


def test_hot_issues_from_the_api(api, tokens, build):
    build.case(local(2026, 10, 10, 9, 0), content=ROAD.format(name="王大爷"),
               topic1="交通运输", topic2="公路建设")
    body = api.get("/stats/hot?period=2026-10", tokens.supervisor).get_json()
    assert body["topics"][0]["topic"] == "交通运输/公路建设"
    assert body["clusters"] == []


def test_phone_figures_count_calls_answered_within_fifteen_seconds(app):
    from hotline.models import calls

    line = db.session.query(Line).filter_by(code="zhitongche").one()
    ring = local(2026, 10, 12, 9, 0)
    for i, (outcome, wait) in enumerate([("answered", 8), ("answered", 15), ("answered", 16),
                                         ("abandoned", None), ("message", None)]):
        db.session.add(calls.Call(
            call_sid=f"CA{i:032d}", direction="inbound", line_id=line.id,
            from_number=f"+86139850100{i:02d}", to_number=line.phone_number,
            started_at=ring + dt.timedelta(minutes=i), outcome=outcome, stage="ended",
            answered_at=ring + dt.timedelta(minutes=i, seconds=wait) if wait else None,
            queue_seconds=wait))
    db.session.add(CallbackTask(kind="missed_call", phone="+8613985010003",
                                line_code="zhitongche", status="done",
                                created_at=ring + dt.timedelta(minutes=4)))
    db.session.commit()
    figures = phone_figures(Scope(parse_period("2026-10"), line="zhitongche"))
    assert (figures["offered"], figures["answered"], figures["answered_within_15s"],
            figures["abandoned"], figures["messages"]) == (5, 3, 2, 1, 1)
    assert figures["answered_within_15s_rate"]["value"] == 40.0
    assert figures["abandon_rate"]["value"] == 20.0
    assert figures["average_wait_seconds"] == 13.0
    assert figures["callbacks"] == {"created": 1, "done": 1, "open": 0, "cancelled": 0}
    assert phone_figures(Scope(parse_period("2026-10"), line="fupin"))["offered"] == 0
