"""The knowledge of earlier answers (互动答问库, 即时答复): answered cases whose question and answer
share the most (and the rarest) words with what a caller asks now. The API's
`GET /api/v1/knowledge` and the operator's desk both search with `search_answers`."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from sqlalchemy import func, or_, select

from .domain.deadlines import PROVINCE_TZ
from .domain.lifecycle import ANSWER_GIVEN
from .domain.stop_words import QUESTION_STOP_WORDS
from .extensions import db
from .models import Case, Category, Line

CANDIDATES = 400


def search_terms(question: str) -> list[str]:
    """The words of a question worth looking for, longest first (jieba's search mode)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    seen: dict[str, None] = {}
    for word in jieba.cut_for_search(question):
        word = word.strip().lower()
        if len(word) < 2 or word in QUESTION_STOP_WORDS or not re.search(r"\w", word):
            continue
        seen[word] = None
    terms = sorted(seen, key=len, reverse=True)
    return terms[:12]


def search_answers(question: str, *, line: str | None = None, category: str | None = None,
                   limit: int = 5) -> tuple[list[str], list[dict[str, Any]]]:
    """Earlier answered cases whose question and answer share the most (and the rarest) words
    with `question`; newest first among equals."""
    terms = search_terms(question)
    if not terms:
        return terms, []
    answer = func.coalesce(Case.answer_text, Case.reply_text)
    query = (select(Case).where(Case.status.in_(ANSWER_GIVEN),
                                or_(Case.answer_text.is_not(None), Case.reply_text.is_not(None)))
             .where(or_(*(or_(Case.content.icontains(t, autoescape=True),
                              answer.icontains(t, autoescape=True)) for t in terms))))
    if line:
        query = query.join(Line, Case.line_id == Line.id).where(Line.code == line)
    if category:
        query = query.join(Category, Case.category_id == Category.id).where(
            Category.code == category)
    rows = db.session.scalars(
        query.order_by(func.coalesce(Case.closed_at, Case.replied_at).desc(), Case.id.desc())
        .limit(CANDIDATES)).all()
    if not rows:
        return terms, []
    # Rarer words among the candidates weigh more (inverse document frequency).
    texts = [(row, (row.content or "").lower(), (row.answer_text or row.reply_text or "").lower())
             for row in rows]
    df = {t: sum(1 for _, q, a in texts if t in q or t in a) for t in terms}
    idf = {t: math.log(1 + len(texts) / (1 + df[t])) + 0.1 for t in terms}
    scored = []
    for order, (row, q, a) in enumerate(texts):
        matched = [t for t in terms if t in q or t in a]
        if not matched:
            continue
        score = sum(idf[t] * min(len(t), 4) * ((1.0 if t in q else 0) + (0.5 if t in a else 0))
                    for t in matched)
        score *= 0.5 + 0.5 * len(matched) / len(terms)
        scored.append((score, -order, row, matched))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return terms, [_knowledge_item(row, score, matched)
                   for score, _, row, matched in scored[:limit]]


def _knowledge_item(case: Case, score: float, matched: list[str]) -> dict[str, Any]:
    answered_at = case.replied_at or case.closed_at
    return {
        "number": case.number,
        "line": case.line.code,
        "category": case.category.code if case.category else None,
        "topic": case.topic,
        "department": case.department_code,
        "question": case.content,
        "answer": case.answer_text or case.reply_text,
        "answered_at": answered_at.astimezone(PROVINCE_TZ).isoformat() if answered_at else None,
        "score": round(score, 3),
        "matched": matched,
    }
