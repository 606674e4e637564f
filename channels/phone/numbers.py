"""Phone numbers for the phone channel: the core's comparisons, and telling a number we can
call back."""

from __future__ import annotations

from hotline.models.calls import callable_number
from hotline.phones import digits, national, same_number, variants

__all__ = ["callable_number", "digits", "national", "same_number", "variants"]
