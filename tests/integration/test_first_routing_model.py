"""`hotline run` (and `init-db`) make a fresh install's first topic model in a process of their
own: training takes scikit-learn, scipy and hundreds of MB that a process keeps once it has
them, and `hotline run`'s supervisor, which makes it, runs as long as the install does."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from hotline.cli import ensure_routing_model
from hotline.extensions import db
from hotline.models import RoutingModel


def test_first_model_is_trained_in_a_child_and_read_back_from_the_cache(
        app, small_topic_model, monkeypatch, tmp_path: Path):
    import routing.training

    cache = tmp_path / "model"
    made_in = tmp_path / "trained-in"

    def shipped_model(progress=None) -> tuple[bytes, dict]:
        """As the real one: trained (here: the small model, with the process that did it
        noted) and cached the first time, read from the cache after."""
        if not cache.exists():
            made_in.write_text(str(os.getpid()))
            cache.write_bytes(small_topic_model.dumps())
        return cache.read_bytes(), {"meta": small_topic_model.meta}

    monkeypatch.setattr(routing.training, "shipped_model", shipped_model)
    assert db.session.scalar(select(RoutingModel).where(RoutingModel.active)) is None

    ensure_routing_model(app)

    assert int(made_in.read_text()) != os.getpid()
    db.session.remove()
    [active] = db.session.scalars(select(RoutingModel).where(RoutingModel.active)).all()
    assert active.blob == cache.read_bytes()
    assert active.examples == small_topic_model.meta["examples"]
