"""At start (`hotline init-db`, `hotline run`) the active topic model is kept when it was made
with this scikit-learn and feature version, known without loading it, and replaced by the
shipped model when it was not."""

from __future__ import annotations

import gzip
import io
import pickle

from hotline.extensions import db
from routing.learned import TopicModel
from routing.training import ensure_model


def _as_made_by(sklearn_version: str) -> bytes:
    """A stored blob as another scikit-learn would have written it (its model is never read)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as fh:
        pickle.dump({"sklearn": sklearn_version, "model": None}, fh)
    return buf.getvalue()


def test_a_model_of_another_scikit_learn_is_replaced_and_this_ones_is_kept(app):
    first = ensure_model()
    assert first.active and first.figures["made_with"] == TopicModel.made_with()
    assert ensure_model().id == first.id

    first.blob = _as_made_by("0.1.0")
    first.figures = {**first.figures, "made_with": {"sklearn": "0.1.0", "feature_version": 1}}
    db.session.commit()
    second = ensure_model()
    assert second.id != first.id and second.active and not first.active
    assert second.figures["made_with"] == TopicModel.made_with()


def test_a_model_stored_by_an_earlier_release_is_loaded_once_to_know_its_versions(app):
    row = ensure_model()
    row.figures = {k: v for k, v in row.figures.items() if k != "made_with"}
    db.session.commit()
    assert ensure_model().id == row.id
    db.session.refresh(row)
    assert row.figures["made_with"] == TopicModel.made_with()
