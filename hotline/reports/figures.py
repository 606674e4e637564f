"""Pure arithmetic of the reports: percentages that add up, rates, averages and percentiles.

Percentages of a breakdown use the largest-remainder method: every share is rounded down to
hundredths of a percent, and the hundredths still missing from 100.00 go, one each, to the
shares with the largest remainders (ties: the larger count, then the earlier entry). So a
breakdown always sums to exactly 100.00 and no share is more than 0.01 off its exact value.
The published 省长直通车 figures (3452, 1281, 42, 14 of 4789) come out as 72.08, 26.75, 0.88
and 0.29 this way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

HUNDREDTHS = 10_000  # 100.00 % in hundredths of a percent


def shares(counts: Sequence[int]) -> list[float]:
    """Percentages (two decimals) of each count in the total, summing to exactly 100.00.

    All zeros (an empty breakdown) give 0.00 each: there is nothing to share out.
    """
    total = sum(counts)
    if total <= 0:
        return [0.0 for _ in counts]
    floors = [c * HUNDREDTHS // total for c in counts]
    remainders = [c * HUNDREDTHS % total for c in counts]
    missing = HUNDREDTHS - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-remainders[i], -counts[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return [f / 100 for f in floors]


def percent(numerator: int, denominator: int) -> float | None:
    """numerator/denominator as a percentage rounded half-up to two decimals; None for 0/0."""
    if denominator <= 0:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    """A rate as the API shows it: the percentage and the two counts it comes from."""
    return {"value": percent(numerator, denominator), "numerator": numerator,
            "denominator": denominator}


def with_percents(rows: list[dict[str, Any]], key: str = "count") -> list[dict[str, Any]]:
    """Add `percent` to each row from its `key` count (largest remainder, sums to 100.00)."""
    for row, share in zip(rows, shares([r[key] for r in rows]), strict=True):
        row["percent"] = share
    return rows


def weighted_mean(values: Iterable[tuple[int, int]]) -> float | None:
    """Mean of (value, weight) pairs to two decimals; None when there are none."""
    total = weight = 0
    for value, w in values:
        total += value * w
        weight += w
    if weight == 0:
        return None
    return float((Decimal(total) / Decimal(weight)).quantize(Decimal("0.01"),
                                                              rounding=ROUND_HALF_UP))


def weighted_percentile(values: Iterable[tuple[int, int]], p: float) -> int | None:
    """The nearest-rank p-th percentile (0 < p <= 100) of (value, weight) pairs.

    Nearest rank: the smallest value with at least p% of the observations at or below it — a
    value that really occurred, as a "90% of replies within N working days" statement needs.
    """
    pairs = sorted((v, w) for v, w in values if w > 0)
    n = sum(w for _, w in pairs)
    if n == 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for value, w in pairs:
        seen += w
        if seen >= rank:
            return value
    return pairs[-1][0]  # pragma: no cover - rank <= n always stops the loop


def change(current: int, previous: int) -> float | None:
    """Growth against the previous period in percent (None when it had none)."""
    if previous <= 0:
        return None
    return percent(current - previous, previous)
