"""Training the topic model on the shipped real messages and the centre's own closed cases, and
keeping the trained models: which one is active, switching only to a better one, rolling back.

Labels from the centre's own work: every closed case with a topic is an example (its final
topic), and so is every case, open or closed, whose topic staff corrected (the `correct` step
on its timeline, `PATCH /api/v1/cases/<n>` with `topic`): an operator's correction is a label
at the next retrain, without waiting for the case to close.

A new model is compared with the active one on a held-back fifth of its own training data
(messages the new model did not learn from); it becomes active only if it scores at least as
well there. Models live in the database (`routing_models`), so every web and worker process
picks up a new active model at its next case (``routing.integration.current_router``).

The model trained on the shipped data alone is the same on every machine of a release: it is
kept in a cache folder (``HOTLINE_CACHE_DIR``, else ``~/.cache/hotline``), so a second
``hotline init-db`` or ``hotline run`` on the same machine does not train it again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Case, RoutingModel

from .learned import (
    FEATURE_VERSION,
    SHIPPED_DATA,
    Example,
    Reading,
    TopicModel,
    calibrate,
    cross_validate,
    matter_groups,
    prepare,
    shipped_examples,
)

log = logging.getLogger(__name__)

# Calibrated on the shipped data by bench/bench_routing_model.py (3-fold, least log-loss):
# the first model of a fresh install uses it instead of calibrating again.
SHIPPED_TEMPERATURE = 0.2744
HELD_BACK_SHARE = 0.2
# A new model may score this much lower on the held-back part and still be switched to
# (noise of a few hundred messages); more than that and the current one stays.
SWITCH_TOLERANCE = 0.0


def case_examples(limit: int | None = None) -> list[Example]:
    """The centre's labelled cases as examples (newest first): the closed ones with a topic and
    the ones whose topic staff corrected."""
    from hotline.models import CaseEvent, Line

    corrected = (select(CaseEvent.case_id).where(CaseEvent.action == "correct")
                 .where(CaseEvent.data["changes"]["topic"].is_not(None)))
    query = (select(Case.content, Case.topic1, Line.code).join(Line, Case.line_id == Line.id)
             .where(Case.topic1.is_not(None))
             .where((Case.status == "closed") | Case.id.in_(corrected))
             .order_by(Case.id.desc()))
    if limit:
        query = query.limit(limit)
    return [Example(content, topic, "case", line=line)
            for content, topic, line in db.session.execute(query)]


def department_history() -> list[list]:
    """Which department answered the closed cases of each topic in each prefecture: rows of
    [level-1 topic, prefecture code, department, cases]. A case's department when it closed is
    the one that answered it (a return clears the department; a re-dispatch replaces it), so
    an operator's correction of where a case should go is what this learns."""
    from sqlalchemy import func

    prefecture = func.substr(Case.region, 1, 4)
    rows = db.session.execute(
        select(Case.topic1, prefecture, Case.department_code, func.count(Case.id))
        .where(Case.status == "closed", Case.kind == "handle", Case.topic1.is_not(None),
               Case.region.is_not(None), Case.department_code.is_not(None))
        .group_by(Case.topic1, prefecture, Case.department_code))
    return [[topic, f"{pref}00", department, n] for topic, pref, department, n in rows]


def history_index(rows: list[list]) -> dict[tuple[str, str], dict[str, int]]:
    index: dict[tuple[str, str], dict[str, int]] = {}
    for topic, prefecture, department, n in rows or []:
        index.setdefault((topic, prefecture), {})[department] = int(n)
    return index


def active_model_row() -> RoutingModel | None:
    return db.session.scalar(select(RoutingModel).where(RoutingModel.active.is_(True))
                             .order_by(RoutingModel.id.desc()).limit(1))


def _cache_dir() -> Path:
    base = os.environ.get("HOTLINE_CACHE_DIR") or os.path.join(Path.home(), ".cache", "hotline")
    return Path(base) / "routing"


def _shipped_key() -> str:
    from importlib import resources

    data = resources.files("routing").joinpath("data", SHIPPED_DATA).read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    made_with = TopicModel.made_with()
    return (f"shipped-{digest}-f{FEATURE_VERSION}-sk{made_with['sklearn']}"
            f"-t{SHIPPED_TEMPERATURE}-c{made_with['compact']}")


def shipped_model(progress: Callable[[str], None] | None = None) -> tuple[bytes, dict]:
    """The model of the shipped data alone (from the cache, else trained and cached). The
    cache's name holds the versions it was made with and its figures the blob's digest: a
    cached blob whose digest matches is taken without being loaded."""
    import json

    folder = _cache_dir()
    key = _shipped_key()
    blob_path, meta_path = folder / f"{key}.model", folder / f"{key}.json"
    if blob_path.exists() and meta_path.exists():
        try:
            blob = blob_path.read_bytes()
            figures = json.loads(meta_path.read_text())
            digest = hashlib.sha256(blob).hexdigest()
            if figures.pop("sha256", None) != digest:  # cached by an earlier release
                TopicModel.loads(blob)
                meta_path.write_text(json.dumps({**figures, "sha256": digest},
                                                ensure_ascii=False))
            return blob, figures
        except (ValueError, OSError, EOFError):
            log.warning("cached routing model %s unreadable; training again", blob_path)
    say = progress or (lambda _m: None)
    say("training the topic model on the shipped real messages (once per machine)")
    examples = shipped_examples()
    model = TopicModel.train(examples, temperature=SHIPPED_TEMPERATURE)
    blob = model.dumps()
    figures = {"meta": model.meta, "note": "shipped data; figures: bench/bench_routing_model.py"}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = blob_path.with_suffix(".tmp")
        tmp.write_bytes(blob)
        tmp.replace(blob_path)
        meta_path.write_text(json.dumps({**figures, "sha256": hashlib.sha256(blob).hexdigest()},
                                        ensure_ascii=False))
    except OSError as exc:  # a read-only home: train again next time, nothing lost
        log.warning("could not cache the routing model in %s: %s", folder, exc)
    return blob, figures


def ensure_model(progress: Callable[[str], None] | None = None) -> RoutingModel:
    """The active model; on a fresh install, the one trained on the shipped real data."""
    row = active_model_row()
    if row is not None:
        if (row.figures or {}).get("made_with") == TopicModel.made_with():
            return row
        try:  # stored by an earlier release: load it to know
            model = TopicModel.loads(row.blob)
            if isinstance(model, TopicModel):  # scikit-learn's pipeline: store it compact
                row.blob = model.dumps()
            row.figures = {**(row.figures or {}), "made_with": TopicModel.made_with()}
            db.session.commit()
            return row
        except ValueError:
            log.warning("active routing model %s was made by another version; replacing", row.id)
            row.active = False
    blob, figures = shipped_model(progress)
    meta = figures.get("meta", {})
    row = RoutingModel(created_by="init-db", examples=meta.get("examples", 0),
                       figures={**figures, "made_with": TopicModel.made_with()},
                       blob=blob, active=True, note="trained on the shipped real messages")
    db.session.add(row)
    db.session.commit()
    return row


def train(actor: str, *, folds: int = 5, include_cases: bool = True,
          examples: list[Example] | None = None,
          progress: Callable[[str], None] | None = None) -> RoutingModel:
    """Train a new model, measure it, and make it active if it is not worse than the current
    one on the held-back part of its own data. Returns the stored model (active or not)."""
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold

    from .learned import duplicate_groups

    say = progress or (lambda _m: None)
    if examples is None:
        examples = shipped_examples() + (case_examples() if include_cases else [])
    say(f"{len(examples)} examples; reading them")
    prepared = [prepare(e.text) for e in examples]
    say("calibrating the confidence")
    temperature = calibrate(examples, prepared)
    say(f"cross-validating ({folds} folds)")
    cv = cross_validate(examples, prepared, folds=folds, temperature=temperature, progress=say)
    # Random folds test on matters the model learned from other messages of; matters it never
    # saw (a centre's next new matter, the held-out real posts) fare worse. Folds of whole
    # matters say by how much: 5 more fits, about half as long again as training took before.
    say("finding the matters")
    matters = matter_groups(prepared, folds)
    say(f"cross-validating on unseen matters ({folds} folds of {max(matters) + 1} matters)")
    unseen = cross_validate(examples, prepared, folds=folds, temperature=temperature,
                            progress=say, groups=matters)

    # The held-back fifth: the new model learns from the rest; both models are scored on it.
    labels = [e.topic for e in examples]
    splitter = StratifiedGroupKFold(n_splits=round(1 / HELD_BACK_SHARE), shuffle=True,
                                    random_state=7)
    learn, held = next(splitter.split(np.zeros(len(examples)), labels,
                                      duplicate_groups(prepared)))
    say("comparing with the active model on the held-back part")
    candidate = TopicModel.train([examples[i] for i in learn],
                                 prepared=[prepared[i] for i in learn], temperature=temperature)
    held_prepared = [prepared[i] for i in held]
    held_truth = [labels[i] for i in held]
    new_score = _accuracy(candidate, held_prepared, held_truth)
    current = active_model_row()
    current_score = None
    if current is not None:
        try:
            current_score = _accuracy(TopicModel.loads(current.blob), held_prepared, held_truth)
        except ValueError:
            current_score = None  # another version: it cannot be used anyway
    better = current_score is None or new_score >= current_score - SWITCH_TOLERANCE

    say("fitting on all examples")
    model = TopicModel.train(examples, prepared=prepared, temperature=temperature)
    figures: dict[str, Any] = {
        "meta": model.meta,
        "cross_validation": cv.as_dict(),
        "unseen_matters": {**unseen.as_dict(), "matters": max(matters) + 1},
        "held_back": {"n": len(held), "new": round(new_score, 4),
                      "current": None if current_score is None else round(current_score, 4),
                      "current_id": current.id if current is not None else None},
        "history": department_history(),
        "made_with": TopicModel.made_with(),
    }
    row = RoutingModel(created_by=actor, examples=len(examples), figures=figures,
                       blob=model.dumps(), active=False)
    if better:
        db.session.execute(RoutingModel.__table__.update().values(active=False))
        row.active = True
        row.note = "active: not worse than the model before it on the held-back part"
    else:
        row.note = (f"not switched to: {new_score:.3f} on the held-back part against "
                    f"{current_score:.3f} for model {current.id}")  # type: ignore[union-attr]
    db.session.add(row)
    db.session.commit()
    return row


def activate(model_id: int) -> RoutingModel:
    """Make a stored model the active one (a rollback, or a switch an admin decides)."""
    from hotline.domain.errors import NotFound, ValidationFailed

    # An id no database integer can hold names no model (and must not reach the driver).
    row = db.session.get(RoutingModel, model_id) if 0 < model_id < 2**31 else None
    if row is None:
        raise NotFound(f"no routing model {model_id}")
    try:
        TopicModel.loads(row.blob)
    except ValueError:
        raise ValidationFailed("this model was made by another version and cannot be used; "
                               "train a new one") from None
    db.session.execute(RoutingModel.__table__.update().values(active=False))
    row.active = True
    db.session.commit()
    return row


def _accuracy(model: TopicModel, prepared: list[Reading], truth: list[str]) -> float:
    scores = model.decision(prepared)
    predicted = [model.classes[i] for i in scores.argmax(axis=1)]
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / max(1, len(truth))
