"""`received_at` has a lower bound (the import horizon), and a case with an ancient date —
stored before the bound existed — costs the supervisor's lists a bounded count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from hotline import services
from hotline.domain.deadlines import local_date
from hotline.domain.workdays import COUNT_LIMIT
from hotline.extensions import db
from hotline.models import Case

from ..conftest import CASE


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_received_at_before_the_import_horizon_is_refused(app, api, tokens):
    app.config["IMPORT_HORIZON_YEARS"] = 5
    horizon_year = local_date(dt.datetime.now(dt.UTC)).year - 5
    for received_at in ("0336-12-10T09:00:00+08:00", "0001-01-01T00:00:00+08:00",
                        "1900-01-01T00:00:00+08:00",
                        f"{horizon_year - 1}-12-31T23:59:00+08:00"):
        resp = api.post("/cases", tokens.operator, {**CASE, "received_at": received_at})
        assert resp.status_code == 400, (received_at, resp.get_data(as_text=True))
        assert "received_at" in resp.get_json()["error"]["fields"]
    assert _count() == 0
    message = api.post("/cases", tokens.operator, {
        **CASE, "received_at": f"{horizon_year - 1}-06-01T09:00:00+08:00"}).get_json()
    assert f"{horizon_year}-01-01" in str(message["error"]["fields"]["received_at"])
    resp = api.post("/cases", tokens.operator,
                    {**CASE, "received_at": f"{horizon_year}-01-02T09:00:00+08:00"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["number"].startswith(f"ZT{horizon_year}0102-")


def test_the_default_horizon_keeps_twenty_years_of_history(app, api, tokens):
    year = local_date(dt.datetime.now(dt.UTC)).year
    assert api.post("/cases", tokens.operator, {
        **CASE, "received_at": f"{year - 19}-03-02T10:00:00+08:00"}).status_code == 201
    assert api.post("/cases", tokens.operator, {
        **CASE, "received_at": f"{year - 21}-03-02T10:00:00+08:00"}).status_code == 400


def test_a_case_with_an_ancient_date_is_counted_up_to_the_limit(app, api, tokens):
    # A case stored before the horizon existed (the attack logged year 0336).
    case, _ = services.create_case({**CASE}, services.SYSTEM)
    ancient = dt.datetime(336, 12, 10, 9, 0, tzinfo=dt.UTC)
    case.received_at = case.deadline_base_at = ancient
    case.due_date = dt.date(336, 12, 24)
    case.due_at = dt.datetime(336, 12, 24, 15, 59, 59, tzinfo=dt.UTC)
    db.session.commit()
    api.post(f"/cases/{case.number}/dispatch", tokens.operator, {"department": "gz-hrss"})
    db.session.expire_all()
    resp = api.get("/supervision/overdue", tokens.supervisor)
    assert resp.status_code == 200
    [item] = resp.get_json()["items"]
    assert item["number"] == case.number
    assert item["supervision"]["working_days_overdue"] == COUNT_LIMIT
    assert item["received_at"].startswith("0336-12-10")
