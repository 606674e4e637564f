"""The working-day calendar per year: what it says, where it comes from, and admin overrides."""

from __future__ import annotations

from flask import g, jsonify

from .. import administration, services
from ..domain.lifecycle import Role
from ..extensions import db
from ..models import CalendarYear
from . import api
from .auth import login_required
from .schemas import CalendarOutSchema, CalendarSchema
from .util import json_body


def calendar_json(year: int) -> dict:
    calendar = services.work_calendar()
    holidays, workdays = calendar.year_days(year)
    row = db.session.get(CalendarYear, year)
    return CalendarOutSchema().dump({
        "year": year, "source": calendar.source(year), "published": calendar.is_published(year),
        "holidays": holidays, "workdays": workdays,
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by if row else None,
    })


@api.get("/calendar/<int:year>")
@login_required()
def get_calendar(year: int):
    administration.check_calendar_year(year)
    return jsonify(calendar_json(year))


@api.put("/calendar/<int:year>")
@login_required(Role.ADMIN)
def put_calendar(year: int):
    administration.check_calendar_year(year)
    data = json_body(CalendarSchema())
    changed = administration.set_calendar_year(year, data["holidays"], data["workdays"],
                                               g.actor)
    return jsonify({**calendar_json(year), "cases_recounted": changed})
