"""The trained topic model as prediction needs it, in numpy alone: the stored form of a
``routing.learned.TopicModel``.

Every process that routes (each web worker's parent, the RQ worker, each restart of a
``hotline run`` child) loads the active model at its start. Loading the scikit-learn pipeline
meant importing scikit-learn (about 1 s of CPU, a third of it scipy.stats) and unpickling its
objects; prediction needs only the two vectorizers' vocabularies and idf weights, the lexicon
features' names and the linear SVM's weights, so that is what a model stores (``state``) and
what ``CompactModel`` computes with: the same arithmetic as scikit-learn's
``TfidfVectorizer`` (character 1–3-grams of the lower-cased text with runs of white space made
one space; words and word pairs; counts → 1 + log → times idf → L2 norm, all in float32),
``DictVectorizer`` and ``LinearSVC.decision_function`` (a float32 sum over the message's
features in column order, plus the intercept), so its decision values are scikit-learn's, bit
for bit on the shipped data (``tests/integration/routing/test_compact_model.py``).
Training and cross-validation still use scikit-learn (``routing.learned``).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from routing.learned import Reading

# What a stored compact model holds (``CompactModel.state``); a new key is a new format.
FORMAT = 1
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's character analyzer makes runs one space
# A gram's column (0 included), not the None of a gram outside the vocabulary: tested in C.
_KNOWN = functools.partial(operator.is_not, None)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / max(temperature, 1e-6)
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


class Predicts:
    """What a topic model answers from its ``decision`` values, ``classes`` and
    ``temperature``: the compact model's and the scikit-learn pipeline's (``TopicModel``)."""

    classes: list[str]
    temperature: float

    def decision(self, prepared: Sequence[Reading]) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self, read: Reading) -> dict[str, float]:
        """{topic: probability} for one message (``prepare``, or ``reading`` of what the
        router computed), highest first."""
        row = softmax(self.decision([read])[0], self.temperature)
        pairs = sorted(zip(self.classes, row.tolist(), strict=True), key=lambda kv: -kv[1])
        return dict(pairs)

    def predict(self, texts: Iterable[str]) -> list[tuple[str, float]]:
        from routing.learned import prepare

        out = []
        for text in texts:
            probs = self.probabilities(prepare(text))
            top = next(iter(probs))
            out.append((top, probs[top]))
        return out


class CompactModel(Predicts):
    """A trained level-1 topic classifier computed with numpy alone. ``probabilities(read)`` →
    {topic: p}, as ``TopicModel``'s."""

    def __init__(self, state: dict[str, Any]):
        self.state = state
        self.chars: dict[str, int] = state["chars"]["vocabulary"]
        self.char_idf: np.ndarray = state["chars"]["idf"]
        self.char_ngrams: tuple[int, int] = tuple(state["chars"]["ngram_range"])
        self.lowercase: bool = state["chars"]["lowercase"]
        self.words: dict[str, int] = state["words"]["vocabulary"]
        self.word_idf: np.ndarray = state["words"]["idf"]
        self.lexicon: dict[str, int] = state["lexicon"]["vocabulary"]
        self.lexicon_weight = np.float32(state["lexicon"]["weight"])
        self.coef: np.ndarray = state["coef"]  # (classes or 1, features), float32
        self.intercept: np.ndarray = state["intercept"]
        self.temperature: float = state["temperature"]
        self.meta: dict[str, Any] = state["meta"]
        self._classes = [str(c) for c in state["classes"]]
        self._word_offset = len(self.chars)
        self._lexicon_offset = self._word_offset + len(self.words)

    @property
    def classes(self) -> list[str]:
        return self._classes

    def features(self, read: Reading) -> tuple[np.ndarray, np.ndarray]:
        """The message's feature columns and values (float32), in scikit-learn's order."""
        from routing.learned import weighted_text, word_grams

        chars, char_values = _tfidf(self._char_grams(weighted_text(read.text)), self.chars,
                                    self.char_idf)
        words, word_values = _tfidf(word_grams(read.words), self.words, self.word_idf)
        lexicon = sorted((self.lexicon[k], np.float32(v)) for k, v in read.lexicon.items()
                         if k in self.lexicon)
        columns = np.concatenate([chars, words + self._word_offset,
                                  np.array([c for c, _ in lexicon], dtype=np.int64)
                                  + self._lexicon_offset])
        values = np.concatenate([char_values, word_values,
                                 np.array([v for _, v in lexicon], dtype=np.float32)
                                 * self.lexicon_weight])
        return columns, values

    def _char_grams(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        text = _WHITE_SPACES.sub(" ", text)
        low, high = self.char_ngrams
        return [text[i:i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]

    def decision(self, prepared: Sequence[Reading]) -> np.ndarray:
        """Decision values, one row per message, one column per class."""
        rows = []
        for read in prepared:
            columns, values = self.features(read)
            # A float32 sum in column order, as scipy's sparse product adds them.
            products = self.coef[:, columns] * values
            sums = np.cumsum(products, axis=1, dtype=np.float32)[:, -1] if len(values) \
                else np.zeros(len(self.coef), dtype=np.float32)
            rows.append(sums + self.intercept)
        scores = np.array(rows).reshape(len(prepared), len(self.coef))
        return scores if len(self._classes) > 2 else np.column_stack([-scores[:, 0],
                                                                      scores[:, 0]])

    def dumps(self) -> bytes:
        from routing.learned import dump_state

        return dump_state({**self.state, "meta": self.meta})


def _tfidf(grams: Iterable[str], vocabulary: dict[str, int],
           idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's TF-IDF of one document (sublinear tf, L2 norm) in float32: columns sorted,
    and their values."""
    # Looked up in C (map, filter) and counted by numpy: a Python loop over a message's ~1,000
    # grams and its counts was most of the model's CPU time in route().
    found = np.fromiter(filter(_KNOWN, map(vocabulary.get, grams)), dtype=np.int64)
    if not len(found):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    columns, counts = np.unique(found, return_counts=True)
    values = counts.astype(np.float32)
    np.log(values, out=values)
    values += np.float32(1.0)
    values *= idf[columns]
    # The norm: a double sum of float32 squares in column order, each value divided by it.
    norm = np.sqrt(np.cumsum((values * values).astype(np.float64))[-1])
    if norm:
        values = (values.astype(np.float64) / norm).astype(np.float32)
    return columns, values


def state_of(vectorizer: Any, classifier: Any, temperature: float,
             meta: dict[str, Any], lexicon_weight: float) -> dict[str, Any]:
    """What ``CompactModel`` needs of a fitted ``Features`` and ``LinearSVC``: plain Python and
    numpy arrays."""
    chars, words, lexicon = vectorizer.chars, vectorizer.words, vectorizer.lexicon
    return {
        "format": FORMAT,
        "chars": {"vocabulary": {str(k): int(v) for k, v in chars.vocabulary_.items()},
                  "idf": np.asarray(chars.idf_, dtype=np.float32),
                  "ngram_range": list(chars.ngram_range), "lowercase": bool(chars.lowercase)},
        "words": {"vocabulary": {str(k): int(v) for k, v in words.vocabulary_.items()},
                  "idf": np.asarray(words.idf_, dtype=np.float32)},
        "lexicon": {"vocabulary": {str(k): int(v) for k, v in lexicon.vocabulary_.items()},
                    "weight": lexicon_weight},
        "coef": np.ascontiguousarray(classifier.coef_, dtype=np.float32),
        "intercept": np.asarray(classifier.intercept_, dtype=np.float64),
        "classes": [str(c) for c in classifier.classes_],
        "temperature": temperature,
        "meta": meta,
    }

