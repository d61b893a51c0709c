"""E-mail semantic keys (SPEC §4.2), added to the properties of e-mail channel events only.

Cordial's own source adds these so that e-mail events follow Segment's Email spec. Each key is
added when its source is present (a scalar that is neither null nor `""`); values are copied
unchanged. The fields that only feed these keys (`link`, `system_properties.link`,
`message_name`, `subject`) are moved, not copied: the caller passes `MOVED_PATHS` to `flatten`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from processor.outbound.flatten import SCALAR_TYPES, Path, is_scalar

# Semantic key ← candidate source paths, first present wins; in the order the keys are added.
SOURCES: Final[Mapping[str, Sequence[Path]]] = {
    "campaign_id": (("bmID",),),
    "email_id": (("mcID",),),
    "campaign_name": (("message_name",),),
    "email_subject": (("subject",),),
    "link_url": (("link",), ("system_properties", "link"), ("system_properties", "rl")),
}

MOVED_PATHS: Final[tuple[Path, ...]] = (
    ("link",),
    ("system_properties", "link"),
    ("message_name",),
    ("subject",),
)
"""Scalars at these paths are not copied into the properties of an e-mail event."""


def lookup(record: object, path: Path) -> object:
    """The value at an object-key path, or None when any step is missing or not an object."""
    current: object = record
    for part in path:
        # Plain dicts (what decoders give) and None first: the Mapping ABC check is slow.
        if type(current) is not dict and (current is None or not isinstance(current, Mapping)):
            return None
        current = current.get(part)
    return current


def is_present(value: object) -> bool:
    """A usable semantic source: a scalar that is neither null nor the empty string."""
    return value is not None and value != "" and is_scalar(value)


def _split(path: Path) -> tuple[str, Path]:
    first = path[0]
    assert isinstance(first, str)
    return first, path[1:]


_SOURCE_STEPS: Final = tuple((name, tuple(map(_split, paths))) for name, paths in SOURCES.items())
"""`SOURCES` with each path split into (top-level key, rest of the path)."""


def semantic_keys(record: Mapping[str, object]) -> dict[str, object]:
    """The semantic keys this e-mail record supports, in `SOURCES` order."""
    keys: dict[str, object] = {}
    for name, paths in _SOURCE_STEPS:
        for first, rest in paths:
            value = record.get(first)
            if rest and value is not None:
                value = lookup(value, rest)
            if value is not None and value != "" and isinstance(value, SCALAR_TYPES):  # is_present
                keys[name] = value
                break
    return keys
