"""Demo data into the database: the lines and categories of docs/channels.md ("The lines")
and a set of Guizhou departments (the lists themselves are in hotline.seed_data)."""

from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import Category, Department, Line
from .seed_data import DEPARTMENTS, LINES
from .wiring import providers


def seed_demo() -> dict[str, int]:
    """Insert what is missing; running it again changes nothing."""
    added = {"lines": 0, "categories": 0, "departments": 0}
    for spec in LINES:
        line = db.session.scalar(select(Line).where(Line.code == spec["code"]))
        if line is None:
            line = Line(code=spec["code"], name=spec["name"], number_prefix=spec["number_prefix"],
                        phone_number=spec["phone_number"], hours=spec["hours"],
                        accept_days=1, reply_days=10, remind_days=2,
                        auto_dispatch_threshold=0.8, active=True)
            db.session.add(line)
            added["lines"] += 1
        have = {c.code for c in line.categories}
        for code, name in spec["categories"]:
            if code not in have:
                line.categories.append(Category(code=code, name=name))
                added["categories"] += 1
    for code, name, region in DEPARTMENTS:
        if db.session.scalar(select(Department).where(Department.code == code)) is None:
            db.session.add(Department(code=code, name=name, region=region, active=True))
            added["departments"] += 1
    db.session.flush()
    for seed_area in providers("seed"):  # the areas' own demo data: hotline.wiring.PROVIDERS
        for key, count in seed_area().items():
            added[key] = added.get(key, 0) + count
    db.session.commit()
    return added
