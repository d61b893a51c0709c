"""The values every record (or every request of a record) ends in.

A sink's `send()` returns one of these; `runtime/routing.py` decides what happens next:

* `Sent`, `Skipped`  → done, the offset may be committed;
* `Retry`           → produce to the next retry tier (or the DLQ when attempts are exhausted);
* `Rejected`        → produce to the DLQ;
* `AuthFailed`      → not done; the whole direction pauses and probes `checkAuth`.
"""

from __future__ import annotations

from dataclasses import dataclass

from processor.errors import ErrorClass


@dataclass(frozen=True, slots=True)
class Sent:
    """Accepted by the API (2xx)."""

    status: int = 200
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing was sent on purpose: `blocked_recursion`, `filtered`, `consent`, `no_matching_action`."""

    reason: str


@dataclass(frozen=True, slots=True)
class Retry:
    """A retryable failure that survived the in-process attempts."""

    error_class: ErrorClass
    message: str
    status: int | None = None
    retry_after: float | None = None
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """401/403: the key does not work; the direction must pause, nothing is dead-lettered."""

    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A permanent failure: bad input, validation, a 4xx other than auth, 501."""

    error_class: ErrorClass
    message: str
    status: int | None = None
    action: str | None = None


Outcome = Sent | Skipped | Retry | AuthFailed | Rejected
"""Every way a record or request can end."""
