"""Consent and subscription policy (SPEC §3.3, seed 004). Pure: message + settings → decision.

Placeholder until the consent work lands: every message is allowed, nothing added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from processor.config.settings import ConsentSettings

SUBSCRIBE_STATUS_KEY = "channels.email.subscribeStatus"


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """`allowed=False` → the message is skipped with reason `consent` (not an error).

    `attributes` are added to `upsertContact.attributes` (the opt-in status in mode `all`);
    `subscribe` adds `channels.email.subscribeStatus: "subscribed"` to the same attributes.
    """

    allowed: bool
    attributes: Mapping[str, object] = field(default_factory=dict)
    subscribe: bool = False


ALLOW = ConsentDecision(allowed=True)


def decide(message: Mapping[str, object], settings: ConsentSettings) -> ConsentDecision:
    """Apply the policy to one Segment message."""
    if not settings.enabled:
        return ALLOW
    return ALLOW
