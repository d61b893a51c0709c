"""Segment message → Cordial requests (placeholder: filled in by the inbound translator work)."""

from __future__ import annotations

from processor.config.settings import InboundSettings
from processor.inbound.requests import InboundTranslation
from processor.outcomes import Rejected


class InboundTranslator:
    """Compiled inbound settings; `translate()` is pure and never raises on bad input."""

    def __init__(self, settings: InboundSettings) -> None:
        self.settings = settings

    def translate(self, message: object) -> InboundTranslation | Rejected:
        raise NotImplementedError
