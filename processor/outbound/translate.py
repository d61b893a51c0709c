"""Cordial event record → Segment message (placeholder: filled in by the outbound translator work)."""

from __future__ import annotations

from processor.config.settings import OutboundSettings
from processor.outbound.messages import OutboundTranslation
from processor.outcomes import Rejected, Skipped


class OutboundTranslator:
    """Compiled outbound settings; `translate()` is pure and never raises on bad input."""

    def __init__(self, settings: OutboundSettings) -> None:
        self.settings = settings

    def translate(self, record: object) -> OutboundTranslation | Skipped | Rejected:
        raise NotImplementedError
