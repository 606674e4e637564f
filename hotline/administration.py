"""Use cases of the admin (系统设置): departments and their contacts for notices, lines and
their categories with the deadline policy, routing rules, and the calendar's years.

The staff API (`hotline.api.admin`, `.rules`, `.contacts`, `.calendar`), the console's admin
pages (`hotline.console.settings`) and the command line call these, so a rule — a code is
unique, a rule names things that exist, an adjusted workday is a weekend day — holds on each.
Input has been through the API's marshmallow schemas first; each function checks what needs the
database, makes the change and commits it (the audit entry, `hotline.audit`, commits with it),
or raises a domain error and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import select

from . import services
from .domain.errors import Conflict, NotFound, UnknownReference, ValidationFailed
from .domain.lifecycle import Actor
from .extensions import db
from .models import Category, Department, DepartmentContact, Line, RoutingRule

# A rule's department may be this placeholder: the government of the case's county, else of
# its prefecture.
REGION_PLACEHOLDER = "{region}"

Row = TypeVar("Row")


def _with_code(model: type[Row], code: str, what: str) -> Row:
    """The department or line with this code, active or not; NotFound names `what`."""
    row = db.session.scalar(select(model).where(model.code == code))  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(f"no {what} {code}")
    return row


def _check_code_free(model: type, code: str, what: str) -> None:
    if db.session.scalar(select(model).where(model.code == code)) is not None:
        raise Conflict(f"a {what} with this code exists", {"code": [f"{code!r} is taken."]})


def _changed(row: Row, changes: dict[str, Any]) -> Row:
    """The row with the (validated) changes set, committed."""
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    return row


# --- departments and their contacts -------------------------------------------------------

def find_department(code: str) -> Department:
    return _with_code(Department, code, "department")


def create_department(data: dict[str, Any]) -> Department:
    _check_code_free(Department, data["code"], "department")
    dep = Department(**data)
    db.session.add(dep)
    db.session.commit()
    return dep


def update_department(dep: Department, changes: dict[str, Any]) -> Department:
    """Rename, move or (de)activate a department. A deactivated one gets no new cases (dispatch
    refuses it, routing leaves it out); its open cases stay with it."""
    return _changed(dep, changes)


def contacts_of(dep: Department) -> list[DepartmentContact]:
    return list(db.session.scalars(select(DepartmentContact)
                                   .where(DepartmentContact.department_code == dep.code)
                                   .order_by(DepartmentContact.id)))


def add_contact(dep: Department, data: dict[str, Any]) -> DepartmentContact:
    exists = db.session.scalar(select(DepartmentContact).where(
        DepartmentContact.department_code == dep.code,
        DepartmentContact.channel == data["channel"],
        DepartmentContact.address == data["address"]))
    if exists is not None:
        raise Conflict("this department has this contact already",
                       {"address": [f"Contact {exists.id} has this address."]})
    contact = DepartmentContact(department_code=dep.code, **data)
    db.session.add(contact)
    db.session.commit()
    return contact


def find_contact(dep: Department, contact_id: int) -> DepartmentContact:
    contact = db.session.get(DepartmentContact, contact_id) if 0 < contact_id < 2**31 else None
    if contact is None or contact.department_code != dep.code:
        raise NotFound(f"no contact {contact_id} of department {dep.code}")
    return contact


def update_contact(contact: DepartmentContact, changes: dict[str, Any]) -> DepartmentContact:
    return _changed(contact, changes)


def remove_contact(contact: DepartmentContact) -> None:
    """Remove a contact; the notices already sent to it stay in the outbox's record."""
    db.session.delete(contact)
    db.session.commit()


# --- lines and categories -----------------------------------------------------------------

def find_line(code: str) -> Line:
    """A line, active or not (intake's `services.find_line` takes active ones only)."""
    return _with_code(Line, code, "line")


def create_line(data: dict[str, Any]) -> Line:
    _check_code_free(Line, data["code"], "line")
    services.check_line_phone(data.get("phone_number"))
    data = dict(data)
    categories = data.pop("categories", [])
    line = Line(**data)
    line.categories = [Category(**c) for c in categories]
    db.session.add(line)
    db.session.commit()
    return line


def update_line(line: Line, changes: dict[str, Any]) -> Line:
    """Change a line's name, number, hours or deadline policy (new cases count by it)."""
    if "phone_number" in changes:
        services.check_line_phone(changes["phone_number"], line)
    return _changed(line, changes)


def create_category(line: Line, data: dict[str, Any]) -> Category:
    if any(c.code == data["code"] for c in line.categories):
        raise Conflict("the line has this category", {"code": [f"{data['code']!r} is taken."]})
    cat = Category(line=line, **data)
    db.session.add(cat)
    db.session.commit()
    return cat


def find_category(line: Line, cat_code: str) -> Category:
    cat = next((c for c in line.categories if c.code == cat_code), None)
    if cat is None:
        raise NotFound(f"line {line.code} has no category {cat_code}")
    return cat


def update_category(cat: Category, changes: dict[str, Any]) -> Category:
    """A category's name and its own time limits (None: the line's apply)."""
    return _changed(cat, changes)


# --- routing rules ------------------------------------------------------------------------

def rules() -> list[RoutingRule]:
    """Every rule, in the order routing weighs them (highest priority first)."""
    return list(db.session.scalars(select(RoutingRule).order_by(RoutingRule.priority.desc(),
                                                                RoutingRule.id)))


def check_rule_references(data: dict[str, Any]) -> None:
    """A rule names lines, categories and departments that exist (or the {region} placeholder)."""
    errors: dict[str, list[str]] = {}
    line = None
    if data.get("line"):
        line = db.session.scalar(select(Line).where(Line.code == data["line"]))
        if line is None:
            errors["line"] = [f"No line {data['line']!r}."]
    if data.get("category") and line is not None:
        cat = db.session.scalar(select(Category).where(Category.line_id == line.id,
                                                       Category.code == data["category"]))
        if cat is None:
            errors["category"] = [f"Line {line.code!r} has no category {data['category']!r}."]
    dep = data.get("department")
    if dep and dep != REGION_PLACEHOLDER and not db.session.scalar(
            select(Department).where(Department.code == dep)):
        errors["department"] = [f"No department {dep!r} (or use {REGION_PLACEHOLDER!r})."]
    if errors:
        raise UnknownReference("the rule names something that does not exist", errors)


def find_rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id) if 0 < rule_id < 2**31 else None
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


RULE_FIELDS = ("line", "category", "topic1", "keywords", "region_level", "department",
               "priority", "active", "note")


def rule_values(rule: RoutingRule) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in RULE_FIELDS}


def create_rule(data: dict[str, Any], by: str) -> RoutingRule:
    """Add a rule; the next routing decision (in every process) uses it."""
    check_rule_references(data)
    rule = RoutingRule(**data, updated_by=by)
    db.session.add(rule)
    db.session.commit()
    return rule


def update_rule(rule: RoutingRule, changes: dict[str, Any], by: str) -> RoutingRule:
    check_rule_references({**rule_values(rule), **changes})
    return _changed(rule, {**changes, "updated_by": by})


def delete_rule(rule: RoutingRule) -> None:
    # Rules are configuration, not records: deleting one is fine (cases keep their reasons,
    # and the audit list keeps the rule).
    db.session.delete(rule)
    db.session.commit()


# --- the calendar's years -----------------------------------------------------------------

CALENDAR_YEARS = (2000, 2100)


def check_calendar_year(year: int) -> None:
    if not CALENDAR_YEARS[0] <= year <= CALENDAR_YEARS[1]:
        raise NotFound("no calendar for that year")


def set_calendar_year(year: int, holidays: list[dt.date], workdays: list[dt.date],
                      actor: Actor) -> int:
    """Check and set a year's holidays and adjusted workdays (调休上班); returns how many open
    cases got new deadlines. Dates of another year, a day both off and on, or an "adjusted
    workday" that is a weekday already are refused, each named."""
    check_calendar_year(year)
    errors: dict[str, list[str]] = {}
    for key, days in (("holidays", holidays), ("workdays", workdays)):
        wrong = [d.isoformat() for d in days if d.year != year]
        if wrong:
            errors.setdefault(key, []).append(f"Dates outside {year}: {', '.join(wrong)}.")
    both = sorted(set(holidays) & set(workdays))
    if both:
        errors.setdefault("workdays", []).append(
            f"Both a holiday and a workday: {', '.join(d.isoformat() for d in both)}.")
    weekdays = [d.isoformat() for d in workdays if d.weekday() < 5]
    if weekdays:
        errors.setdefault("workdays", []).append(
            "Adjusted workdays (调休上班) are weekend days; these are weekdays already: "
            + ", ".join(weekdays) + ".")
    if errors:
        raise ValidationFailed("the calendar has invalid dates", errors)
    return services.set_calendar_year(year, holidays, workdays, actor)
