"""Routing wired into the core: every new case gets a topic, category, region and department
suggestion at intake; confident ones are dispatched at once; likely duplicates are linked.

`route_new_case` follows every new case and `seed_default_rules` adds the demo's rules (both
rows of `hotline.wiring`'s tables); `init_app` adds the settings and the API. The core knows
nothing of routing.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, func, or_, select

from hotline import reference, services
from hotline.domain import phones
from hotline.domain.lifecycle import Actor, Kind, Status
from hotline.events import CaseCreated
from hotline.extensions import db
from hotline.models import Case, Department, Line, RoutingModel, RoutingRule
from hotline.models.types import utcnow

from . import Department as RDepartment
from . import Router, Rule, default_rules, similarity
from .learned import Predictor, TopicModel

ROUTING_ACTOR = Actor(name="routing", role="operator")
DEFAULT_DUPLICATE_DAYS = 30
# Same caller within the window already says a lot; similar content at this level (cosine on
# content words) was the same matter in the labelled pairs we looked at, unrelated text ~0.
DUPLICATE_SIMILARITY = 0.35
# The router is kept per process and rebuilt when an admin changes a rule, a department or
# the active topic model, in any process: checked against those tables' change stamps
# (`hotline.reference`), and at least every `reference.TTL` seconds whatever they say.
ROUTING_TABLES = ("routing_rules", "departments", "routing_models")
_routers = reference.Kept(*ROUTING_TABLES)

# This process's latest router (what the warm-up loaded, for a look from outside).
_cache: dict[str, Any] = {"router": None}
# The active topic model of this process: (model id, its compact form); loaded once per model.
_model: dict[str, Any] = {"id": None, "model": None, "history": {}}


def init_app(app: Flask) -> None:
    app.config.setdefault("ROUTING_DUPLICATE_DAYS", DEFAULT_DUPLICATE_DAYS)
    app.config.setdefault("ROUTING_DUPLICATE_SIMILARITY", DUPLICATE_SIMILARITY)
    from .api import bp

    app.register_blueprint(bp)


def _departments() -> list[RDepartment]:
    rows = db.session.scalars(select(Department).where(Department.active.is_(True)))
    return [RDepartment(d.code, d.name, d.region) for d in rows]


def _topic_model(model_id: int | None) -> tuple[Predictor | None, dict]:
    """The active model and the department history stored with it, loaded from the database
    once per process and model."""
    from .training import history_index

    if model_id is None:
        return None, {}
    if _model["id"] == model_id:
        return _model["model"], _model["history"]
    row = db.session.get(RoutingModel, model_id)
    model, history = None, {}
    if row is not None:
        history = history_index((row.figures or {}).get("history", []))
        try:
            model = TopicModel.loads(row.blob)
            model.meta["id"] = model_id
        except ValueError:
            current_app.logger.warning("routing model %s was made by another version; "
                                       "routing by the lexicon until one is trained", model_id)
    _model.update(id=model_id, model=model, history=history)
    return model, history


def current_router() -> Router:
    """The router for the rules in the database now, kept per process: rebuilt when an admin
    changes a rule or a department or another model becomes active — in every web and worker
    process, at its next case, without a restart (`hotline.reference`). (The segmenter's
    dictionaries are loaded once per process inside `routing`, whatever the rules.)"""
    router = _routers.get("router", _build_router)
    _cache["router"] = router
    return router


def _build_router() -> Router:
    departments = _departments()
    rows = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                              .order_by(RoutingRule.id)).all()
    if rows:
        rules = [rule_of(r.id, {k: getattr(r, k) for k in RULE_FIELDS}) for r in rows]
    elif not db.session.scalar(select(func.count(RoutingRule.id))):
        rules = default_rules(departments)  # nothing configured yet: the shipped policy
    else:
        rules = []  # the admin switched every rule off: route nothing automatically
    model, history = _topic_model(db.session.scalar(
        select(func.max(RoutingModel.id)).where(RoutingModel.active.is_(True))))
    return Router(rules, departments, model=model, history=history)


RULE_FIELDS = ("line", "category", "topic1", "keywords", "region_level", "department", "priority")


def rule_of(rule_id: int | None, values: dict[str, Any]) -> Rule:
    """Routing's rule from a stored rule's values (a row's, or a form's not yet saved)."""
    return Rule(id=rule_id, line=values.get("line"), category=values.get("category"),
                topic1=values.get("topic1"), keywords=tuple(values.get("keywords") or ()),
                region_level=values.get("region_level"), department=values["department"],
                priority=values.get("priority") or 0)


def try_rule(content: str, *, line: str, region: str | None = None,
             rule: dict[str, Any] | None = None, replacing: int | None = None) -> dict[str, Any]:
    """What routing would decide for `content` if `rule` were saved — added to the rules in
    force, or in place of stored rule `replacing` — with nothing saved. The router is intake's
    own (`current_router`: the same departments, topic model and history) with that one rule
    changed, and it routes the message as intake does.

    Besides the decision: whether the tried rule matches the message, whether it wins, which of
    its keywords occur in the text, and which rule wins instead when it does not."""
    from .router import MAX_CHARS
    from .rules import Context, describe, matches, normalized_keywords
    from .segment import normalize

    base = current_router()
    rules = [r for r in base.rules if replacing is None or r.id != replacing]
    tried = None
    if rule is not None and rule.get("active", True):
        tried = rule_of(replacing, rule)
        rules.append(tried)
    router = Router(rules, base.departments, model=base.model, history=base.history)
    decision = router.route(content, line=line, caller_region=region)
    out = decision.as_dict()
    threshold = db.session.scalar(select(Line.auto_dispatch_threshold).where(Line.code == line))
    out["threshold"] = threshold
    out["auto_dispatch"] = (decision.department is not None and threshold is not None
                            and decision.confidence >= threshold)
    norm = normalize((content or "")[:MAX_CHARS])
    ctx = Context(norm, line, decision.category, decision.topic[0], decision.region)
    winner, _others = router.book.first(ctx)
    out["winner"] = describe(winner.rule) if winner is not None else None
    out["tried"] = None
    if tried is not None:
        keywords = normalized_keywords(tried)
        out["tried"] = {
            "matches": matches(tried, ctx, keywords),
            "wins": winner is not None and winner.rule is tried,
            "matched_keywords": [k for k, n in zip(tried.keywords, keywords, strict=True)
                                 if n and n in norm],
            "described": describe(tried),
        }
    return out


def warm_up(app: Flask) -> None:
    """Load what routing reads — jieba's dictionary, the lexicons, the active topic model — at a
    process's start, so that its first message is answered as fast as the next ones."""
    from . import segment

    sample = "贵阳市云岩区小区噪音扰民，晚上十点以后还在施工"
    segment.cut(sample)
    with app.app_context():
        try:
            # The router and what a case's routing first touches: the model's and lexicons'
            # inner tables, the duplicate search's query and the similarity's words.
            current_router().route(sample, line="board")
            likely_duplicates(sample, phone="13800000000", at=utcnow())
            similarity(sample, "小区噪音扰民")
        except Exception as exc:  # noqa: BLE001 (a database not migrated yet: load at first use)
            app.logger.info("routing warm-up skipped: %s", exc)
        finally:
            db.session.remove()


def refresh(app: Flask) -> None:
    """This process's router brought up to date now (`current_router`: rebuilt if a rule, a
    department or the active model changed, or it is older than `reference.TTL`). A worker
    calls it before forking each job's child, so that the child starts with the current router
    instead of building one that dies with it."""
    with app.app_context():
        try:
            current_router()
        finally:
            db.session.remove()


def route_new_case(event: CaseCreated) -> None:
    """After intake: suggest, fill in what intake left open, link a likely duplicate, dispatch
    if sure — at the moment of the case's logging, which is not the wall clock when a case is
    logged with an earlier moment (an import, a replay)."""
    case, at = event.case, event.at
    router = current_router()
    decision = router.route(case.content, line=case.line.code, caller_region=case.region)
    case.topic1, case.topic2, case.topic3 = decision.topic
    category_changed = False
    if case.category is None and decision.category:
        case.category = reference.category(case.line.id, decision.category)
        category_changed = case.category is not None
    if not case.region and decision.region:
        case.region = decision.region
    if category_changed:
        services.apply_deadlines(case)  # a category may have its own time limits

    threshold = case.line.auto_dispatch_threshold
    sure = decision.department is not None and decision.confidence >= threshold
    auto = sure and case.kind == Kind.HANDLE and case.status == Status.RECEIVED
    model_id = router.model.meta.get("id") if router.model is not None else None
    case.routing = {**decision.as_dict(), "threshold": threshold, "auto_dispatched": auto,
                    "topic_model": model_id}

    earlier = find_duplicate(case)
    if earlier is not None:
        case.duplicate_of = earlier[0]
        services.record_event(case, "duplicate", ROUTING_ACTOR,
                              f"疑似重复件：与 {earlier[0].number} 内容相近",
                              {"of": earlier[0].number, "similarity": round(earlier[1], 3)}, at=at)
    if auto:
        services.apply_action(case, "dispatch", ROUTING_ACTOR, {
            "department": decision.department,
            "note": "自动分派：" + "；".join(decision.reasons),
        }, now=at)


def find_duplicate(case: Case) -> tuple[Case, float] | None:
    """The most similar earlier case of the same caller (phone or openid) within the window."""
    found = likely_duplicates(case.content, phone=case.citizen_phone, openid=case.citizen_openid,
                              at=case.received_at, exclude_id=case.id, limit=1)
    return found[0] if found else None


def likely_duplicates(content: str, *, phone: str | None = None, openid: str | None = None,
                      at: dt.datetime, exclude_id: int | None = None,
                      limit: int = 3) -> list[tuple[Case, float]]:
    """Earlier cases of the same caller (phone or openid) within the window whose content is
    similar enough to be the same matter, most similar first (newest first among equals)."""
    # +8613985012345 from Twilio and 139-8501-2345 typed by an operator are one caller.
    key = phones.key(phone)
    if not key and not openid:
        return []
    days = int(current_app.config.get("ROUTING_DUPLICATE_DAYS", DEFAULT_DUPLICATE_DAYS))
    query = _earlier_cases(bool(key), bool(openid), exclude_id is not None)
    # The candidates' texts only (most callers have none, or none similar): a case is loaded
    # when it is one of the answers.
    candidates = db.session.connection().execute(query, {
        "phone_key": key, "openid": openid, "since": at - dt.timedelta(days=days), "until": at,
        "exclude_id": exclude_id})
    minimum = float(current_app.config.get("ROUTING_DUPLICATE_SIMILARITY", DUPLICATE_SIMILARITY))
    scored = [(other, similarity(content, text)) for other, text in candidates]
    similar = sorted((s for s in scored if s[1] >= minimum), key=lambda s: s[1], reverse=True)
    return [(db.session.get(Case, other), score) for other, score in similar[:limit]]


@lru_cache(maxsize=8)
def _earlier_cases(by_phone: bool, by_openid: bool, excluding: bool) -> Any:
    """The duplicate search's statement (the ids and texts of the caller's latest cases), built
    once for each kind of caller: a statement built at every case costs more CPU than running
    it."""
    contacts = []
    if by_phone:
        contacts.append(Case.citizen_phone_key == bindparam("phone_key"))
    if by_openid:
        contacts.append(Case.citizen_openid == bindparam("openid"))
    query = select(Case.id, Case.content).where(
        or_(*contacts), Case.received_at >= bindparam("since"),
        Case.received_at <= bindparam("until"))
    if excluding:
        query = query.where(Case.id != bindparam("exclude_id"))
    return query.order_by(Case.received_at.desc()).limit(20)


def suggest(content: str, *, line: str, region: str | None = None, phone: str | None = None,
            at: dt.datetime | None = None) -> dict[str, Any]:
    """What routing would decide for a case not yet filed (the operator's desk, as the call
    goes on): the decision, whether it would be dispatched without the operator, and the
    caller's likely duplicates. Reads only."""
    decision = current_router().route(content, line=line, caller_region=region)
    threshold = db.session.scalar(select(Line.auto_dispatch_threshold).where(Line.code == line))
    out = decision.as_dict()
    out["threshold"] = threshold
    out["auto_dispatch"] = (decision.department is not None and threshold is not None
                            and decision.confidence >= threshold)
    out["duplicates"] = likely_duplicates(content, phone=phone, at=at or utcnow())
    return out


def seed_default_rules() -> dict[str, int]:
    """Write the shipped policy into the rules table once, so an admin sees and edits it."""
    if db.session.scalar(select(func.count(RoutingRule.id))):
        return {"rules": 0}
    rules = default_rules(_departments())
    for r in rules:
        db.session.add(RoutingRule(line=r.line, category=r.category, topic1=r.topic1,
                                   keywords=list(r.keywords), region_level=r.region_level,
                                   department=r.department, priority=r.priority, active=True,
                                   updated_by="seed"))
    return {"rules": len(rules)}
