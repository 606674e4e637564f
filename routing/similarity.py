"""Similarity of two messages, for linking likely duplicates (重复件).

Cosine similarity of the two messages' content words (jieba segmentation with the routing
dictionary, so 拖欠工资 and 威宁县 stay whole), ignoring punctuation, function words and
filler (嗯、那个、就是说). 1.0 means the same words in the same proportions; a caller
phoning twice about the same unpaid wages typically scores 0.5–0.8, two different matters
from one village below 0.3. The core decides the threshold and adds "same caller, recent".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from hotline.domain.stop_words import FUNCTION_WORDS
from routing import segment

_PUNCT = re.compile(r"^[\W_]+$")


def content_words(text: str) -> Counter[str]:
    """Content words of a message with their counts."""
    return Counter(_content_words(text or ""))


# The duplicate search compares each new message with the caller's recent ones: each process
# keeps the words of the messages it read lately instead of segmenting them again every time.
@lru_cache(maxsize=4096)
def _content_words(text: str) -> Counter[str]:
    words = segment.cut(segment.normalize(text))
    return Counter(w for w in words if w.strip() and w not in FUNCTION_WORDS and not _PUNCT.match(w))


def similarity(a: str, b: str) -> float:
    """0..1: how alike two messages are in what they say (cosine on content words)."""
    if a.strip() and a.strip() == b.strip():
        return 1.0
    wa, wb = _content_words(a or ""), _content_words(b or "")
    if not wa or not wb:
        return 0.0
    dot = sum(n * wb[w] for w, n in wa.items())
    norm = math.sqrt(sum(n * n for n in wa.values())) * math.sqrt(sum(n * n for n in wb.values()))
    return round(dot / norm, 4) if norm else 0.0
