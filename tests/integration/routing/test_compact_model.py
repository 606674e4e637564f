"""A stored topic model is its compact form (``routing.compact``): it decides exactly as the
scikit-learn pipeline it came from, and a process that loads it and routes never imports
scikit-learn (about 1 s of CPU at every web worker's, worker's and restart's boot)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hotline.extensions import db
from hotline.models import RoutingModel
from routing.compact import CompactModel
from routing.learned import Example, TopicModel, prepare, shipped_examples

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def shipped() -> tuple[list[Example], list[Example]]:
    """500 real messages to train on and 300 others to compare on, the same every run."""
    examples = shipped_examples()
    random.Random(12).shuffle(examples)
    return examples[:500], examples[500:800]


@pytest.fixture(scope="module")
def pipeline(shipped) -> TopicModel:
    return TopicModel.train(shipped[0], temperature=0.2744)


def test_the_stored_model_decides_as_the_scikit_learn_pipeline(pipeline, shipped):
    stored = TopicModel.loads(pipeline.dumps())
    assert isinstance(stored, CompactModel)
    assert stored.classes == pipeline.classes
    prepared = [prepare(e.text) for e in shipped[1]]

    expected, got = pipeline.decision(prepared), stored.decision(prepared)
    assert got.shape == expected.shape == (300, len(pipeline.classes))
    assert np.abs(got - expected).max() <= 1e-9
    for read in prepared:
        assert stored.probabilities(read) == pipeline.probabilities(read)  # labels, confidences
    texts = [e.text for e in shipped[1][:50]]
    assert stored.predict(texts) == pipeline.predict(texts)
    # Right on most of them: the comparison is not between two models that know nothing.
    right = sum(t == e.topic for (t, _p), e in zip(stored.predict(texts), shipped[1],
                                                   strict=False))
    assert right >= 35


def _as_an_earlier_release_stored(pipeline: TopicModel) -> bytes:
    import gzip
    import io
    import pickle

    import sklearn

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as fh:
        pickle.dump({"sklearn": sklearn.__version__, "model": pipeline}, fh)
    return buf.getvalue()


def test_a_model_stored_by_an_earlier_release_still_loads_through_scikit_learn(pipeline):
    old = TopicModel.loads(_as_an_earlier_release_stored(pipeline))
    assert isinstance(old, TopicModel)
    text = "公交车不按站停车\n18路公交车经常过站不停，司机态度恶劣"
    assert old.predict([text]) == TopicModel.loads(old.dumps()).predict([text])


def test_an_active_model_stored_by_an_earlier_release_is_stored_again_compact_at_start(
        app, pipeline):
    from routing.training import ensure_model

    db.session.execute(RoutingModel.__table__.update().values(active=False))
    made_before = {k: v for k, v in TopicModel.made_with().items() if k != "compact"}
    row = RoutingModel(created_by="test", examples=pipeline.meta["examples"],
                       figures={"meta": pipeline.meta, "made_with": made_before},
                       blob=_as_an_earlier_release_stored(pipeline), active=True)
    db.session.add(row)
    db.session.commit()

    assert ensure_model().id == row.id  # the same model, kept
    db.session.refresh(row)
    assert row.figures["made_with"] == TopicModel.made_with()
    again = TopicModel.loads(row.blob)
    assert isinstance(again, CompactModel)
    text = "公交车不按站停车\n18路公交车经常过站不停，司机态度恶劣"
    assert again.predict([text]) == pipeline.predict([text])


# A new process of the installation, started as a web worker or the worker is: the app, its
# routing warm-up (which loads the active model), then a case routed.
NEW_PROCESS = """
import sys
from hotline import create_app
from routing.integration import current_router, suggest, warm_up

app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": None,
                  "SECRET_KEY": "test-secret", "INSTANCE_PATH": sys.argv[2]})
warm_up(app)
with app.app_context():
    decision = suggest("孩子的学校收取补课费\\n学校强制学生参加补课并收费", line="board")
    model = current_router().model
    print(type(model).__name__, model.meta.get("id"), decision["topic"][0],
          "sklearn" in sys.modules, "scipy" in sys.modules)
"""


def test_a_process_that_loads_the_model_and_routes_imports_no_scikit_learn(app, pipeline):
    db.session.execute(RoutingModel.__table__.update().values(active=False))
    row = RoutingModel(created_by="test", examples=pipeline.meta["examples"],
                       figures={"meta": pipeline.meta}, blob=pipeline.dumps(), active=True)
    db.session.add(row)
    db.session.commit()

    out = subprocess.run(
        [sys.executable, "-c", NEW_PROCESS, app.config["SQLALCHEMY_DATABASE_URI"],
         app.instance_path], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    kind, model_id, topic, sklearn_imported, scipy_imported = out.stdout.split()
    assert (kind, int(model_id), topic) == ("CompactModel", row.id, "教育文体")
    assert sklearn_imported == "False" and scipy_imported == "False"
