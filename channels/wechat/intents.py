"""What a citizen's text message asks for: a case's status, their cases, a survey answer, a
phone binding, help — or, for anything else, intake. Plain functions of the text, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.domain import case_numbers, phones
from hotline.surveys import parse_rating

# Case numbers as citizens type them (case_numbers.TYPED), after a query word or alone.
_QUERY = re.compile(r"^\s*(?:查询|查|查进度|进度查询|进度|工单号?)?\s*[:：]?\s*" + case_numbers.TYPED
                    + r"\s*[。.!！?？]*\s*$")
_QUERY_WORD = re.compile(r"^\s*(?:查询|查询进度|进度查询|查进度|查询工单)\s*[。.!！?？]*\s*$")
_MINE = re.compile(r"^\s*(?:我的|我的工单|我的诉求|我的留言|我的反映|我反映的)\s*[。.!！?？]*\s*$")
_BIND = re.compile(r"^\s*绑定(?:手机|手机号|手机号码|电话)?\s*[:：]?\s*(\+?[\d\s\-]{5,20})\s*$")
_BIND_WORD = re.compile(r"^\s*绑定(?:手机|手机号|手机号码|电话)?\s*$")
_CODE = re.compile(r"^\s*(?:验证码?|验证码是)?\s*[:：]?\s*(\d{6})\s*$")
_UNBIND = re.compile(r"^\s*(?:解绑|解除绑定|取消绑定)(?:手机|手机号)?\s*$")
_NEW = re.compile(r"^\s*(?:新诉求|新问题|另起一件|重新反映|反映新问题)\s*[。.!！]*\s*$")
_HELP = {"你好", "您好", "在吗", "在不在", "在么", "有人吗", "hello", "hi", "帮助", "help", "?",
         "？", "菜单", "使用说明", "怎么用", "说明"}
_TRAILING = re.compile(r"[\s。.!！?？~～,，、呀啊呢吧]+$")
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")


@dataclass(frozen=True)
class Intent:
    kind: str  # query, query_help, mine, survey, bind, bind_help, confirm, unbind, new, help, text
    number: str | None = None
    rating: str | None = None
    comment: str | None = None
    phone: str | None = None
    code: str | None = None


def classify(text: str, *, code_pending: bool = False) -> Intent:
    """Read one text message. `code_pending`: the citizen was sent an SMS code, so six bare
    digits are that code rather than the start of a case."""
    text = (text or "").strip()
    match = _QUERY.match(text)
    if match:
        return Intent("query", number=case_numbers.from_parts(*match.groups()))
    if _QUERY_WORD.match(text):
        return Intent("query_help")
    if _MINE.match(text):
        return Intent("mine")
    match = _BIND.match(text)
    if match:
        # A mainland mobile, as E.164 (from "139 8501 2345", "+86 139…"); None for anything else.
        return Intent("bind", phone=phones.mobile(match.group(1)))
    if _BIND_WORD.match(text):
        return Intent("bind_help")
    if _UNBIND.match(text):
        return Intent("unbind")
    match = _CODE.match(text)
    if match and (code_pending or not text.isdigit()):
        return Intent("confirm", code=match.group(1))
    if _NEW.match(text):
        return Intent("new")
    rating = parse_rating(text)
    if rating is not None:
        return Intent("survey", rating=rating[0], comment=rating[1])
    bare = _TRAILING.sub("", text).lower()
    if bare in _HELP or not bare:
        return Intent("help")
    return Intent("text")


def too_short_for_a_case(text: str) -> bool:
    """"嗯", "。", an emoji: not something to open a case with (it may still add to one)."""
    return len(_MEANINGFUL.findall(text or "")) < 2

