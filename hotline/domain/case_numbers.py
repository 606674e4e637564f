"""Case numbers (一案一号): ``FP20261207-0001`` — the line's two-letter prefix, the province's
date of receipt, and the day's sequence (four digits; five or six past 9,999 cases a day).

A citizen reads it off an SMS and types it back in a WeChat message, an SMS or the web form:
lower case, spaces, full-width characters, a long or missing dash. `canonical` turns any of
those into the number; `TYPED` is the same reading as a regular-expression fragment, for the
channels that find a number inside a sentence ("查询 fp20261207 0001").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

PREFIX = re.compile(r"^[A-Z]{2}$")  # a line's number prefix
NUMBER = re.compile(r"^[A-Z]{2}\d{8}-\d{4,6}$")
# Groups: prefix, date, sequence.
TYPED = r"([A-Za-z]{2})\s*(\d{8})\s*[-‐‑‒–—―－_ ]?\s*(\d{4,6})"
_WHOLE = re.compile(r"^\s*" + TYPED + r"\s*$")


def make(prefix: str, day: dt.date, sequence: int) -> str:
    return f"{prefix}{day:%Y%m%d}-{sequence:04d}"


def from_parts(prefix: str, day: str, sequence: str) -> str:
    """The number from the groups of a `TYPED` match."""
    return f"{prefix.upper()}{day}-{sequence}"


def canonical(text: str | None) -> str | None:
    """The case number however it was typed (full-width, lower case, spaces, any dash), or
    None when the text is not one."""
    match = _WHOLE.match(unicodedata.normalize("NFKC", text or ""))
    return from_parts(*match.groups()) if match else None


def spaced(number: str) -> str:
    """As it is read out to a caller: ``FP 2026 1207 - 0001``."""
    match = re.match(r"^([A-Z]{2})(\d{4})(\d{4})-(\d+)$", number or "")
    return " ".join((match[1], match[2], match[3], "-", match[4])) if match else number
