"""The working-day calendar per year: what it says, where it comes from, and admin overrides."""

from __future__ import annotations

from flask import g, jsonify

from .. import services
from ..domain.errors import NotFound, ValidationFailed
from ..domain.lifecycle import Role
from ..extensions import db
from ..models import CalendarYear
from . import api
from .auth import login_required
from .schemas import CalendarOutSchema, CalendarSchema
from .util import json_body


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise NotFound("no calendar for that year")


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
    _check_year(year)
    return jsonify(calendar_json(year))


@api.put("/calendar/<int:year>")
@login_required(Role.ADMIN)
def put_calendar(year: int):
    _check_year(year)
    data = json_body(CalendarSchema())
    errors: dict[str, list[str]] = {}
    for key in ("holidays", "workdays"):
        wrong = [d.isoformat() for d in data[key] if d.year != year]
        if wrong:
            errors.setdefault(key, []).append(f"Dates outside {year}: {', '.join(wrong)}.")
    both = sorted(set(data["holidays"]) & set(data["workdays"]))
    if both:
        errors.setdefault("workdays", []).append(
            f"Both a holiday and a workday: {', '.join(d.isoformat() for d in both)}.")
    weekdays = [d.isoformat() for d in data["workdays"] if d.weekday() < 5]
    if weekdays:
        errors.setdefault("workdays", []).append(
            "Adjusted workdays (调休上班) are weekend days; these are weekdays already: "
            + ", ".join(weekdays) + ".")
    if errors:
        raise ValidationFailed("the calendar has invalid dates", errors)
    changed = services.set_calendar_year(year, data["holidays"], data["workdays"], g.actor)
    return jsonify({**calendar_json(year), "cases_recounted": changed})
