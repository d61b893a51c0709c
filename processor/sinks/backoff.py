"""How long to wait before the next in-process attempt: jittered exponential backoff and `Retry-After`.

Pure functions; the clock and the random source are passed in so tests need neither.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final

MAX_RETRY_AFTER_S: Final = 3600.0
"""A `Retry-After` beyond an hour is treated as an hour: the retry tiers take it from there."""


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay after failed attempt number `attempt` (1-based): "equal jitter" exponential backoff.

    Half of `min(max_s, base_s * 2**(attempt-1))` is fixed and half random, so a crowd of
    clients that failed together spreads out but every one of them still waits a little.
    """
    ceiling = min(max_s, base_s * 2.0 ** max(attempt - 1, 0))
    return ceiling / 2 + rand() * ceiling / 2


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date.

    `now` is the current Unix time (for the date form). Returns None when the header is absent
    or unreadable; a date in the past gives 0; values are capped at `MAX_RETRY_AFTER_S`.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP-date is always GMT; the asctime form does not say so
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if math.isnan(seconds) or seconds < 0:
        return 0.0 if not math.isnan(seconds) else None
    return min(seconds, MAX_RETRY_AFTER_S)
