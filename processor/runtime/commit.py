"""When to commit: every `interval_s` seconds or every `every` completions, whichever comes first.

The shape of Arroyo's `commit.py`: a frozen policy plus a small state object. `now` is passed in
(monotonic seconds), so tests need no clock. Revoke and shutdown do not ask the policy: they
commit with force, synchronously, for the partitions still assigned.
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.config.settings import WorkerSettings


@dataclass(frozen=True, slots=True)
class CommitPolicy:
    interval_s: float = 1.0
    every: int = 5000

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> CommitPolicy:
        return cls(interval_s=settings.commit_interval_s, every=settings.commit_every)


class CommitState:
    """Counts completions since the last commit and remembers when it happened."""

    __slots__ = ("_completions", "_last_commit", "policy")

    def __init__(self, policy: CommitPolicy, now: float) -> None:
        self.policy = policy
        self._last_commit = now
        self._completions = 0

    def record_completion(self, count: int = 1) -> None:
        self._completions += count

    def should_commit(self, now: float) -> bool:
        """True when a commit is due (and something finished since the last one)."""
        if self._completions == 0:
            return False
        if self._completions >= self.policy.every:
            return True
        return now - self._last_commit >= self.policy.interval_s

    def did_commit(self, now: float) -> None:
        self._last_commit = now
        self._completions = 0
