"""Fixtures of the report tests: cases built through the real lifecycle at chosen moments,
and bulk-inserted cases for volume figures.

Routing and the outbox hooks are switched off here: the reports are tested on cases whose
every step the test decides (a routing decision would dispatch some of them on its own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select

from hotline import services
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Case, Category, Line
from hotline.reports.periods import parse_period
from hotline.reports.scope import Scope
from hotline.reports.summary import build_summary
from hotline.wiring import wiring_of

OPERATOR = Actor("op1", "operator")
SUPERVISOR = Actor("sup1", "supervisor")


def handler(department: str = "gz-hrss") -> Actor:
    return Actor(f"h-{department}", "handler", department)


def local(*args: int) -> dt.datetime:
    """An instant given as local (Asia/Shanghai) wall-clock time."""
    return dt.datetime(*args, tzinfo=PROVINCE_TZ)


@pytest.fixture
def app(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(wiring_of(app), "handlers", {})  # nothing follows the steps
    return app


class Builder:
    """Makes cases and moves them through the lifecycle at given moments."""

    def case(self, received_at: dt.datetime, *, line: str = "zhitongche",
             category: str | None = "situation", channel: str = "phone",
             content: str = "我公司是贵阳市一家民营企业，某区住建部门拖欠工程款三百余万元，请协调。",
             **extra: Any) -> Case:
        data = {"line": line, "channel": channel, "content": content, "category": category,
                "received_at": received_at, "kind": extra.pop("kind", "handle"),
                "citizen": extra.pop("citizen", {}), "region": extra.pop("region", None)}
        case, _ = services.create_case(data, OPERATOR, now=received_at)
        for key, value in extra.items():  # topic and the like, which routing would set
            setattr(case, key, value)
        db.session.commit()
        return case

    def act(self, case: Case, action: str, at: dt.datetime, actor: Actor | None = None,
            **body: Any) -> Case:
        if actor is None:
            actor = {"accept": handler(case.department_code or "gz-hrss"),
                     "return": handler(case.department_code or "gz-hrss"),
                     "reply": handler(case.department_code or "gz-hrss"),
                     "extension": handler(case.department_code or "gz-hrss"),
                     "answer": OPERATOR, "dispatch": OPERATOR}.get(action, SUPERVISOR)
        return services.act(case.number, action, actor, body, now=at)

    def replied(self, received_at: dt.datetime, replied_at: dt.datetime,
                department: str = "gz-hrss", **kw: Any) -> Case:
        """Received, dispatched and signed for at once, replied at `replied_at`."""
        case = self.case(received_at, **kw)
        self.act(case, "dispatch", received_at, department=department)
        self.act(case, "accept", received_at + dt.timedelta(minutes=30))
        return self.act(case, "reply", replied_at, text="已协调住建部门于本月底前结清工程款。")

    def closed(self, received_at: dt.datetime, replied_at: dt.datetime, **kw: Any) -> Case:
        case = self.replied(received_at, replied_at, **kw)
        self.act(case, "review", replied_at + dt.timedelta(hours=1), approve=True)
        return self.act(case, "close", replied_at + dt.timedelta(hours=2))


@pytest.fixture
def build(app: Any) -> Builder:
    return Builder()


@pytest.fixture
def bulk(app: Any) -> Callable[..., int]:
    """Insert many received cases at once: bulk_cases(line, {category code: count}, day)."""

    def insert_cases(line_code: str, counts: dict[str | None, int],
                     received_at: dt.datetime, **columns: Any) -> int:
        line = db.session.scalar(select(Line).where(Line.code == line_code))
        cats = {c.code: c.id for c in db.session.scalars(
            select(Category).where(Category.line_id == line.id))}
        rows = []
        prefix = f"{line.number_prefix}{received_at.astimezone(PROVINCE_TZ):%Y%m%d}"
        start = db.session.scalar(select(db.func.count()).select_from(Case)) or 0
        for code, n in counts.items():
            for _ in range(n):
                start += 1
                rows.append({
                    "number": f"{prefix}-B{start:06d}", "line_id": line.id,
                    "channel": columns.get("channel", "phone"),
                    "category_id": cats[code] if code else None, "kind": "handle",
                    "status": "received", "content": "企业诉求", "received_at": received_at,
                    "created_at": received_at, "updated_at": received_at,
                    "deadline_base_at": received_at, "extension_days": 0, "supervised": False,
                    "public_consent": False, "deadline_provisional": False, "version": 1,
                    **{k: v for k, v in columns.items() if k != "channel"},
                })
        db.session.execute(insert(Case), rows)
        db.session.commit()
        return len(rows)

    return insert_cases


@pytest.fixture
def summary(app: Any) -> Callable[..., dict[str, Any]]:
    """The report of a period as of a moment: summary("2026-10", now, line=...)."""

    def make(period: str = "2026-10", now: dt.datetime | None = None,
             **filters: Any) -> dict[str, Any]:
        db.session.expire_all()
        return build_summary(Scope(parse_period(period), **filters),
                             now=now or local(2026, 12, 1, 9, 0), sections=())

    return make
