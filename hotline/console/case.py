"""The case page (/console/cases/<number>): one case with its file (一案一档), scoped exactly as
the API's `GET /api/v1/cases/<number>` — the same `services.get_case` with the signed-in actor."""

from __future__ import annotations

import datetime as dt

from flask import g, render_template
from sqlalchemy import select

from .. import services
from ..extensions import db
from ..models import Department
from . import bp


@bp.get("/cases/<number>")
def case(number: str):
    c = services.get_case(number, g.actor)
    departments = {d.code: d.name for d in db.session.scalars(select(Department))}
    return render_template("console/case.html", c=c, departments=departments,
                           now=dt.datetime.now(dt.UTC))
