"""Retry tiers (SPEC §6): durations, topic names, which tier comes next, and due-time gating.

A retryable failure goes to `<source>.retry.<tier>`; the tier is chosen by the number of
attempts made so far, and after `max_attempts` the record goes to `<source>.dlq` instead.
A record read back from a retry topic carries `cb-due-at` (epoch ms); until then the worker
holds it with a `DueGate`: the partition is paused, the consumer seeks back to the record, and
the partition resumes at the due time — the poll loop never sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from processor.config.settings import RetrySettings
from processor.errors import ConfigError
from processor.runtime import headers as h

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """`"5s"`, `"1m"`, `"10m"`, `"1h"`, `"250ms"`, `"1d"` → seconds. Anything else is a ConfigError."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(f"retry tier {text!r} is not a duration like 5s, 1m, 10m, 1h")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def retry_topic(source: str, tier: str) -> str:
    return f"{source}.retry.{tier.strip()}"


def dlq_topic(source: str) -> str:
    return f"{source}.dlq"


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """The configured tiers (validated) and the attempt budget."""

    tiers: tuple[Tier, ...]
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPlan:
        tiers = tuple(Tier(name.strip(), parse_duration(name)) for name in settings.tiers)
        if len({t.name for t in tiers}) != len(tiers):
            raise ConfigError(f"retry tiers must be distinct: {list(settings.tiers)}")
        if settings.max_attempts < 1:
            raise ConfigError("retry.max_attempts must be at least 1")
        return cls(tiers, settings.max_attempts)

    def next_tier(self, attempts_made: int) -> Tier | None:
        """The tier after `attempts_made` failed attempts (1-based), or None: dead-letter it."""
        if not self.tiers or attempts_made >= self.max_attempts:
            return None
        return self.tiers[min(max(attempts_made, 1) - 1, len(self.tiers) - 1)]

    def topics(self, source: str) -> list[str]:
        return [retry_topic(source, t.name) for t in self.tiers]


def due_at_ms(headers: Mapping[str, bytes]) -> int | None:
    """The `cb-due-at` of a retry record, or None (not a retry record, or unreadable)."""
    raw = headers.get(h.DUE_AT)
    if raw is None:
        return None
    try:
        return int(raw.decode())
    except (UnicodeDecodeError, ValueError):
        return None


class DueGate:
    """Partitions held until a due time (monotonic seconds). Pure bookkeeping; the worker acts."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], tuple[int, float]] = {}

    def hold(self, tp: tuple[str, int], offset: int, until: float) -> None:
        """Hold `tp` at `offset` (the record to re-read) until `until`."""
        self._held[tp] = (offset, until)

    def is_held(self, tp: tuple[str, int]) -> bool:
        return tp in self._held

    def release_due(self, now: float) -> list[tuple[tuple[str, int], int]]:
        """Partitions whose time has come, with the offset to seek to; they are no longer held."""
        due = [(tp, offset) for tp, (offset, until) in self._held.items() if until <= now]
        for tp, _ in due:
            del self._held[tp]
        return due

    def drop(self, tp: tuple[str, int]) -> None:
        self._held.pop(tp, None)

    def next_due(self) -> float | None:
        return min((until for _, until in self._held.values()), default=None)
