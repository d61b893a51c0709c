"""Cordial → Segment translation (SPEC §4): pure, no I/O. Other packages import from here."""

from __future__ import annotations

from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator

__all__ = ["OutboundTranslation", "OutboundTranslator"]
