"""What should happen to a batch of records, according to `cordial-bridge translate`.

The demo knows it is finished when what arrived matches what the dry run predicts, and the tests
compare bodies against the same prediction. Both go through `translate_stream`, the function the
`translate` verb runs, so "expected" has exactly one definition.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from processor.cli.translate import translate_stream
from processor.demo.traffic import TrafficDirection


def translate_values(
    direction: TrafficDirection, values: Iterable[bytes], config_path: str | Path | None
) -> list[dict[str, Any]]:
    """One `translate` output object per value (values must not contain a raw newline)."""
    source = io.BytesIO(b"".join(value.replace(b"\n", b" ") + b"\n" for value in values))
    sink = io.BytesIO()
    translate_stream(direction, source, sink, None if config_path is None else str(config_path))
    return [orjson.loads(line) for line in sink.getvalue().splitlines()]


@dataclass(frozen=True, slots=True)
class Expected:
    """The predicted end state of one direction's records."""

    records: int
    deliveries: int
    """Inbound: Cordial calls; outbound: Segment messages."""
    dead_letters: int
    """Records (or, inbound, single actions) that end in the DLQ."""
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def summarise(results: Sequence[dict[str, Any]]) -> Expected:
    """Count deliveries, dead letters and skips in `translate` output."""
    deliveries = dead = 0
    skipped: dict[str, int] = {}
    for result in results:
        if "error" in result:
            dead += 1
            continue
        for item in result.get("results", ()):
            if "error" in item:
                dead += 1
            else:
                deliveries += 1
        reason = result.get("skipped")
        if isinstance(reason, str):
            skipped[reason] = skipped.get(reason, 0) + 1
    return Expected(len(results), deliveries, dead, skipped)


def expected_bodies(results: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Per input line, what must arrive: inbound `{"action", "body"}` items, outbound messages."""
    out: list[list[dict[str, Any]]] = []
    for result in results:
        items: list[dict[str, Any]] = []
        for item in result.get("results", ()):
            if "request" in item:
                items.append({"action": item["action"], "body": item["request"]["body"]})
            elif "message" in item:
                items.append(item["message"])
        out.append(items)
    return out
