"""What the inbound translator produces: requests for Cordial, per-action errors, skips."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from processor.errors import ErrorClass


@dataclass(frozen=True, slots=True)
class CordialRequest:
    """One call to the ingest service: `POST {endpoint}/api/segment/{action}` with `body`."""

    action: str
    body: Mapping[str, object]
    method: str = "POST"

    @property
    def path(self) -> str:
        return f"/api/segment/{self.action}"


@dataclass(frozen=True, slots=True)
class ActionRejected:
    """One action of a message failed (validation); the message's other actions still go out."""

    action: str
    error_class: ErrorClass
    message: str


@dataclass(frozen=True, slots=True)
class InboundTranslation:
    """The result for a usable message: one entry per matching enabled action, in action order.

    `skipped` names why nothing is sent on purpose (`blocked_recursion`, `consent`,
    `no_matching_action`); `results` is then empty.
    """

    results: tuple[CordialRequest | ActionRejected, ...]
    skipped: str | None = None
    event_id: str | None = None

    @property
    def requests(self) -> tuple[CordialRequest, ...]:
        return tuple(r for r in self.results if isinstance(r, CordialRequest))

    @property
    def rejected(self) -> tuple[ActionRejected, ...]:
        return tuple(r for r in self.results if isinstance(r, ActionRejected))
