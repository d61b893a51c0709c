"""The HTTP edges: Cordial (inbound) and Segment (outbound) sinks, the only importers of httpx
apart from the emulators. Other packages import from here."""

from __future__ import annotations

from processor.sinks.concurrency import AimdLimiter
from processor.sinks.cordial import CordialSink
from processor.sinks.http import classify_exception, classify_response, make_client
from processor.sinks.requester import Timing
from processor.sinks.segment import SegmentSink

__all__ = [
    "AimdLimiter",
    "CordialSink",
    "SegmentSink",
    "Timing",
    "classify_exception",
    "classify_response",
    "make_client",
]
