"""Properties flattening (SPEC §4.2): nested keys joined with `_`, array items by zero-based index.

Rules, in the order they decide:

* keys are used literally (no escaping of `_`, `.`, spaces or non-ASCII); array items are named
  by their index; leaves are copied unchanged, `null` included; an empty object or array
  produces no key;
* a *moved* leaf (a scalar at one of the `moved` paths, e.g. `time`) is taken out instead of
  copied; it still claims its name, so nothing else can appear under it;
* collisions: a top-level scalar key always wins, wherever it sits in the record; then the
  `reserved` names (the e-mail semantic keys, added later by the caller); between two flattened
  keys the first in record order wins. Every loser is reported in `dropped`, once per loss.

Two walks implement these rules (`processor.outbound.walks`). The fast one (hot path: every
outbound record) handles plain JSON by recursion, at most `FAST_MAX_DEPTH` levels; on anything
else, or with the Python stack nearly full, the general walk re-does the record: iterative, with
an explicit stack, and the one that words every `invalid_record` error. So a hostile record can
neither overflow the Python stack nor make the output unbounded in depth.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Final

from processor.outbound.walks import (
    SCALAR_TYPES,
    SEPARATOR,
    MovedPaths,
    Parts,
    Path,
    Unusual,
    fast,
    general,
)

__all__ = [
    "FAST_MAX_DEPTH",
    "MAX_DEPTH",
    "SCALAR_TYPES",
    "SEPARATOR",
    "Flattened",
    "MovedPaths",
    "Parts",
    "Path",
    "flatten",
    "flatten_parts",
    "is_scalar",
]

MAX_DEPTH: Final = 64
"""Containers nested inside one another, the record itself counting as 1."""

FAST_MAX_DEPTH: Final = 100
"""The fast walk recurses once per level; a larger `max_depth` goes to the general walk."""


@dataclass(frozen=True, slots=True)
class Flattened:
    """The flat properties (record order), the keys that lost a collision, and the moved leaves."""

    properties: dict[str, object]
    dropped: tuple[str, ...] = ()
    moved: Mapping[Path, object] = field(default_factory=dict)


def is_scalar(value: object) -> bool:
    """A JSON leaf: string, number, boolean or null."""
    return isinstance(value, SCALAR_TYPES)


def flatten(
    record: Mapping[str, object],
    *,
    moved: Collection[Path] | MovedPaths = (),
    reserved: Collection[str] = (),
    max_depth: int = MAX_DEPTH,
) -> Flattened:
    """Flatten one record. Raises `TranslationError(invalid_record)` for values that are not JSON
    (or integers no encoder can write) and for nesting deeper than `max_depth`."""
    plan = moved if isinstance(moved, MovedPaths) else MovedPaths.of(moved)
    properties, dropped, moved_out = flatten_parts(record, moved=plan, reserved=reserved, max_depth=max_depth)
    return Flattened(properties=properties, dropped=tuple(dropped), moved=moved_out)


def flatten_parts(
    record: Mapping[str, object],
    *,
    moved: MovedPaths,
    reserved: Collection[str] = (),
    max_depth: int = MAX_DEPTH,
) -> Parts:
    """`flatten` for the translator's hot path: compiled `moved`, and no `Flattened` built."""
    if type(record) is dict and max_depth <= FAST_MAX_DEPTH:
        try:
            return fast(record, moved, reserved, max_depth)
        except (Unusual, RecursionError):  # the latter only when called with the stack nearly full
            pass
    return general(record, moved.paths, frozenset(reserved), max_depth)
