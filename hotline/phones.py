"""Phone numbers as Twilio gives them (E.164) and as staff type them (13985012345,
0851-86833668): one phone under several spellings. Used by intake, routing and the channels."""

from __future__ import annotations


def digits(number: str | None) -> str:
    return "".join(ch for ch in (number or "") if ch.isdigit())


def national(number: str | None) -> str:
    """The number without China's country code or trunk zero: 13985012345, 85186833668."""
    d = digits(number)
    if (number or "").strip().startswith("+86") or (d.startswith("86") and len(d) == 13):
        d = d[2:]
    elif d.startswith("0086"):
        d = d[4:]
    return d.lstrip("0")


def same_number(a: str | None, b: str | None) -> bool:
    """+8613985012345, 8613985012345 and 13985012345 are one phone; 0851-86833668 and
    +8685186833668 are one line."""
    na, nb = national(a), national(b)
    return bool(na) and na == nb


def variants(number: str | None) -> list[str]:
    """The spellings under which the same phone may have been stored on a case."""
    value = (number or "").strip()
    if not value:
        return []
    nat = national(value)
    found = [value, nat, f"+86{nat}", f"86{nat}", f"0{nat}"]
    return list(dict.fromkeys(v for v in found if v))


def phone_e164(phone: str) -> str:
    """A phone number as E.164, which Twilio needs: numbers without a country code are
    Chinese (a mobile 139…, or a landline with its area code 0851…)."""
    raw = phone.strip()
    d = digits(raw)
    if raw.startswith("+"):
        return "+" + d
    if raw.startswith("00"):
        return "+" + d[2:]
    if d.startswith("86") and len(d) == 13:
        return "+" + d
    if d.startswith("0"):  # a landline with its area code: 0851-86833668
        return "+86" + d[1:]
    return "+86" + d


def is_mobile(phone: str) -> bool:
    """A Chinese mobile number (can receive SMS), with or without +86."""
    d = digits(phone)
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    return len(d) == 11 and d.startswith("1")
