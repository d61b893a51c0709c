"""What the inbound translator produces: requests for Cordial, per-action errors, skips.

The three classes are frozen dataclasses (eq, repr, `dataclasses.replace`, no assignment), but
their `__init__` is written by hand: the generated one of a frozen dataclass goes through
`object.__setattr__` and costs about three times as much, and one of each is built per message.
The hand-written one stores through the slot descriptors, which is what assignment would do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from processor.errors import ErrorClass


@dataclass(frozen=True, slots=True, init=False)
class CordialRequest:
    """One call to the ingest service: `POST {endpoint}/api/segment/{action}` with `body`."""

    action: str
    body: Mapping[str, object]
    method: str = "POST"

    def __init__(self, action: str, body: Mapping[str, object], method: str = "POST") -> None:
        _REQUEST_ACTION(self, action)
        _REQUEST_BODY(self, body)
        _REQUEST_METHOD(self, method)

    @property
    def path(self) -> str:
        return f"/api/segment/{self.action}"


@dataclass(frozen=True, slots=True, init=False)
class ActionRejected:
    """One action of a message failed (validation); the message's other actions still go out."""

    action: str
    error_class: ErrorClass
    message: str

    def __init__(self, action: str, error_class: ErrorClass, message: str) -> None:
        _REJECTED_ACTION(self, action)
        _REJECTED_CLASS(self, error_class)
        _REJECTED_MESSAGE(self, message)


@dataclass(frozen=True, slots=True, init=False)
class InboundTranslation:
    """The result for a usable message: one entry per matching enabled action, in action order.

    `skipped` names why nothing is sent on purpose (`blocked_recursion`, `consent`,
    `no_matching_action`); `results` is then empty.
    """

    results: tuple[CordialRequest | ActionRejected, ...]
    skipped: str | None = None
    event_id: str | None = None

    def __init__(
        self,
        results: tuple[CordialRequest | ActionRejected, ...],
        skipped: str | None = None,
        event_id: str | None = None,
    ) -> None:
        _TRANSLATION_RESULTS(self, results)
        _TRANSLATION_SKIPPED(self, skipped)
        _TRANSLATION_EVENT_ID(self, event_id)

    @property
    def requests(self) -> tuple[CordialRequest, ...]:
        return tuple(r for r in self.results if isinstance(r, CordialRequest))

    @property
    def rejected(self) -> tuple[ActionRejected, ...]:
        return tuple(r for r in self.results if isinstance(r, ActionRejected))


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    """The slot descriptor's `__set__` of `cls.name`: a store that skips the frozen check."""
    setter: Callable[[object, object], None] = cls.__dict__[name].__set__
    return setter


_REQUEST_ACTION = _slot_setter(CordialRequest, "action")
_REQUEST_BODY = _slot_setter(CordialRequest, "body")
_REQUEST_METHOD = _slot_setter(CordialRequest, "method")
_REJECTED_ACTION = _slot_setter(ActionRejected, "action")
_REJECTED_CLASS = _slot_setter(ActionRejected, "error_class")
_REJECTED_MESSAGE = _slot_setter(ActionRejected, "message")
_TRANSLATION_RESULTS = _slot_setter(InboundTranslation, "results")
_TRANSLATION_SKIPPED = _slot_setter(InboundTranslation, "skipped")
_TRANSLATION_EVENT_ID = _slot_setter(InboundTranslation, "event_id")
