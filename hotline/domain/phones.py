"""Phone numbers: the one place that reads, stores, compares and shows them.

Citizens and operators write one phone in many ways — 13985012345, +86 139-8501-2345,
８６１３９８５０１２３４５ in full-width digits, a Guiyang landline as 0851-86833668 or
85186833668 — and Twilio sends +8613985012345. Every number is stored as E.164
(+8613985012345, +8685186833668): that is what Twilio needs, it is one spelling per phone, and a
look-up by phone compares E.164 with E.164 (or the national digits kept beside it in
`cases.citizen_phone_key`). Numbers without a country code are Chinese. Text that is not a phone
number at all (a withheld caller, "无") is kept as it was written, so nothing typed is lost.

Staff and citizens read a number the way it is printed in China: 13985012345 for a mobile,
0851-86833668 for a landline (`display`). Parsing and validation are Google's libphonenumber
(the `phonenumbers` package), so area codes and mobile prefixes stay current with its data.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

REGION = "CN"
COUNTRY_CODE = 86
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)

# What a phone field accepts as typed: digits, spaces and hyphens, an optional leading +
# (139 8501 2345, +86 139-8501-2345, 0851-86833668). A short number (110, 12345) is one.
WRITTEN = re.compile(r"^\+?[0-9][0-9\- ]{2,30}$")
# A whole number, not its last digits (a citizen's proof when the tail is no longer enough).
WHOLE = re.compile(r"^\+?[0-9][0-9\- ]{6,30}$")


# One intake reads its caller's number four times or more (stored, its key, the duplicate
# search, whether it takes an SMS): each process keeps the numbers it parsed lately. The
# parsed numbers are only read, never changed.
@lru_cache(maxsize=4096)
def _parse(text: str | None) -> phonenumbers.PhoneNumber | None:
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not any(ch.isdigit() for ch in value):
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if value.startswith("+"):
        value = "+" + digits
    elif digits.startswith("00"):  # 0086 139…: the international prefix dialled from China
        value = "+" + digits[2:]
    elif digits.startswith("86") and len(digits) == 13:  # 8613985012345: +86 without the +
        value = "+" + digits
    else:
        value = digits
    try:
        number = phonenumbers.parse(value, REGION)
    except NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def e164(text: str | None) -> str | None:
    """+8613985012345 from any spelling of that phone; None when the text is no phone number."""
    number = _parse(text)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number else None


def stored(text: str | None) -> str | None:
    """What a phone column holds: the E.164 number, or the text as written (stripped) when it
    is not a phone number; None for nothing."""
    value = (text or "").strip()
    if not value:
        return None
    return e164(value) or value


def key(text: str | None) -> str:
    """The search key of a phone: its national digits for a Chinese number (13985012345,
    85186833668), the E.164 digits for another country, the bare digits for anything else.
    Every spelling of one phone has one key; '' for no digits."""
    number = _parse(text)
    if number is None:
        return "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isdigit())
    if number.country_code == COUNTRY_CODE:
        return phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def same(a: str | None, b: str | None) -> bool:
    """+8613985012345, 8613985012345 and 139-8501-2345 are one phone; 0851-86833668 and
    +8685186833668 are one line."""
    ka = key(a)
    return bool(ka) and ka == key(b)


def is_valid(text: str | None) -> bool:
    """A number a phone company could have given out (libphonenumber's rules): a Chinese mobile
    or a landline with its area code, or a foreign number with its country code."""
    number = _parse(text)
    return number is not None and phonenumbers.is_valid_number(number)


def is_chinese(text: str | None) -> bool:
    """A valid mainland number: what the web form and WeChat binding accept."""
    number = _parse(text)
    return (number is not None and number.country_code == COUNTRY_CODE
            and phonenumbers.is_valid_number(number))


def is_mobile(text: str | None) -> bool:
    """A Chinese mobile number (one that can receive an SMS), however it is written."""
    number = _parse(text)
    return (number is not None and number.country_code == COUNTRY_CODE
            and phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) in _MOBILE_TYPES)


def mobile(text: str | None) -> str | None:
    """The E.164 of a Chinese mobile number found as the whole of `text`, else None."""
    return e164(text) if is_mobile(text) else None


# A Chinese mobile as stored (E.164): +86, then 1[3-9] and nine digits.
_STORED_MOBILE = re.compile(r"\+861[3-9]\d{9}")


def display(text: str | None) -> str:
    """A number as people in China write it: 13985012345 for a mobile, 0851-86833668 for a
    landline, +1 415-555-2671 for a foreign one; text that is no number as it was written."""
    if text and _STORED_MOBILE.fullmatch(text):
        return text[3:]  # the commonest case without a parse (the ledger shows thousands)
    number = _parse(text)
    if number is None:
        return (text or "").strip()
    if number.country_code != COUNTRY_CODE:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.national_significant_number(number)
    area = phonenumbers.length_of_geographical_area_code(number)
    if area and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return f"0{national[:area]}-{national[area:]}"
    return national  # a mobile, or a service number such as 12345 or 95598


def masked(text: str | None) -> str:
    """139****2345: enough for a citizen to recognise their own number, not enough to dial it."""
    digits = display(text).replace("-", "")
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def tail(text: str | None, length: int = 4) -> str:
    """The last digits of a phone (the citizen's proof in a status look-up)."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if ch.isdigit())
    return digits[-length:]
