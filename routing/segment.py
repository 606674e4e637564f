"""Chinese word segmentation (分词) for routing: one jieba tokenizer per process, and lexicon scans.

jieba's default dictionary takes about a second to load, so the tokenizer is built once,
lazily, under a lock, the first time any routing function needs it (``tokenizer()``); every
later call reuses it. It is a private ``jieba.Tokenizer``, not jieba's global one, so words
added for routing (place names, topic terms, ``data/domain_words.txt``) do not change how the
rest of the process segments text. Its cache file goes to ``<tmp>/hotline-routing/`` rather
than jieba's default of the bare temp dir, and jieba's load messages are kept off stderr.

``Lexicon`` finds dictionary entries in a text by leftmost-longest matching. A two-character
place name only counts when it is also a whole word of the segmentation (both of its ends
fall on word boundaries): that keeps 正安 (a county) out of 正安排 (is arranging).
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import jieba

DATA = Path(__file__).parent / "data"
CACHE_DIR = Path(tempfile.gettempdir()) / "hotline-routing"

# A frequency high enough that a rare run of characters (哈喇河) becomes one word, low enough
# that it never beats two common words (正|安排) in jieba's path choice.
ADDED_WORD_FREQ = 200

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_extra_words: list[str] = []


def register_words(words: Iterable[str]) -> None:
    """Ask for ``words`` to be single tokens.

    The place and topic modules call this at import time, before the tokenizer exists, so
    the words are simply added when it is built; later callers get them added at once.
    """
    words = [normalize(w) for w in words]
    with _lock:
        _extra_words.extend(words)
        if _tokenizer is not None:
            for word in words:
                _add(_tokenizer, word)


def tokenizer() -> jieba.Tokenizer:
    """The process-wide routing tokenizer, built on first use (thread-safe)."""
    tk = _tokenizer
    if tk is not None:
        return tk
    with _lock:
        if _tokenizer is None:
            _build()
        assert _tokenizer is not None
        return _tokenizer


def _build() -> None:
    global _tokenizer
    import jieba  # here, not at the top: importing jieba alone costs 0.3 s of start-up

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(CACHE_DIR)
    tk.cache_file = "jieba.cache"
    log = logging.getLogger("jieba")
    level = log.level
    log.setLevel(logging.WARNING)  # jieba logs "Building prefix dict..." at DEBUG to stderr
    try:
        tk.initialize()
    finally:
        log.setLevel(level)
    for word in _domain_words():
        _add(tk, word)
    for word in _extra_words:
        _add(tk, word)
    _tokenizer = tk


def _add(tk: jieba.Tokenizer, word: str) -> None:
    if len(word) >= 2 and not tk.FREQ.get(word):
        tk.add_word(word, ADDED_WORD_FREQ)


def _domain_words() -> Iterator[str]:
    path = DATA / "domain_words.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield from line.split()


def normalize(text: str) -> str:
    """Full-width letters and digits to half-width (１２３３３ → 12333), lower case, and the
    common input-method slips of ``data/typos.csv`` corrected (燥音 → 噪音)."""
    text = unicodedata.normalize("NFKC", text).lower()
    for wrong, right in _typos():
        if wrong in text:
            text = text.replace(wrong, right)
    return text


@lru_cache(maxsize=1)
def _typos() -> tuple[tuple[str, str], ...]:
    pairs = []
    with (DATA / "typos.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            pairs.append((row["wrong"], row["right"]))
    return tuple(pairs)


def cut(text: str) -> list[str]:
    """The words of ``text`` (already normalized), in order, covering it exactly."""
    return tokenizer().lcut(text, HMM=True)


def boundaries(tokens: list[str]) -> frozenset[int]:
    """Character offsets where a token starts or ends."""
    marks = {0}
    pos = 0
    for tok in tokens:
        pos += len(tok)
        marks.add(pos)
    return frozenset(marks)


T = TypeVar("T")


@dataclass(frozen=True)
class Match(Generic[T]):
    """One lexicon entry found in a text, at ``[start, end)``."""

    term: str
    start: int
    end: int
    value: T


class Lexicon(Generic[T]):
    """A term → value dictionary scanned by leftmost-longest matching."""

    def __init__(self, entries: Iterable[tuple[str, T]] = (), pairs: str = "word") -> None:
        # How a two-character entry must sit in the segmentation: "word" — both its ends on
        # word boundaries (places: 正安 is not in 正安排); "edge" — at least one end (topic
        # words: 社保 in 社保补贴); "any" — anywhere (cue words: 强制 in 强制脱贫).
        if pairs not in ("word", "edge", "any"):
            raise ValueError(f"pairs must be word, edge or any: {pairs!r}")
        self.pairs = pairs
        self._entries: dict[str, T] = {}
        self._by_first: dict[str, list[int]] = {}
        for term, value in entries:
            self.add(term, value)

    def add(self, term: str, value: T) -> None:
        term = normalize(term)
        if len(term) < 2:
            raise ValueError(f"lexicon terms need two characters or more: {term!r}")
        self._entries[term] = value
        # Lengths of the entries starting with each character, longest first: most
        # characters start no entry, so the scan skips them with one dict look-up.
        lengths = self._by_first.setdefault(term[0], [])
        if len(term) not in lengths:
            lengths.append(len(term))
            lengths.sort(reverse=True)

    def __contains__(self, term: str) -> bool:
        return normalize(term) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, term: str) -> T | None:
        return self._entries.get(normalize(term))

    def terms(self) -> list[str]:
        return list(self._entries)

    def scan(self, text: str, bounds: frozenset[int]) -> list[Match[T]]:
        """Entries found in ``text`` (normalized), leftmost-longest, not overlapping.

        ``bounds`` are the word boundaries of the text's segmentation (``boundaries()``).
        """
        found: list[Match[T]] = []
        entries = self._entries
        by_first = self._by_first
        pairs = self.pairs
        i, n = 0, len(text)
        while i < n:
            for length in by_first.get(text[i], ()):
                j = i + length
                if j > n:
                    continue
                term = text[i:j]
                value = entries.get(term)
                if value is None:
                    continue
                if length == 2 and pairs != "any":
                    at_start, at_end = i in bounds, j in bounds
                    if not (at_start and at_end) if pairs == "word" else not (at_start or at_end):
                        continue
                found.append(Match(term, i, j, value))
                i = j
                break
            else:
                i += 1
        return found


def reset_for_tests() -> None:
    """Forget the tokenizer (tests of the lazy loading only)."""
    global _tokenizer
    with _lock:
        _tokenizer = None


def cache_dir() -> str:
    return os.fspath(CACHE_DIR)
