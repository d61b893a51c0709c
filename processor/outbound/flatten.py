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

The walk is iterative, with an explicit stack, and refuses nesting deeper than `max_depth`
containers (`invalid_record`), so a hostile record can neither overflow the Python stack nor
make the output unbounded in depth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from processor.errors import ErrorClass
from processor.outbound.record import TranslationError, describe_type

MAX_DEPTH: Final = 64
"""Containers nested inside one another, the record itself counting as 1."""

SEPARATOR: Final = "_"

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
"""The integers a JSON encoder (orjson) can write; anything wider cannot be sent."""

Path = tuple[str | int, ...]
"""A leaf's position: object keys as strings, array indexes as integers."""


@dataclass(frozen=True, slots=True)
class Flattened:
    """The flat properties (record order), the keys that lost a collision, and the moved leaves."""

    properties: dict[str, object]
    dropped: tuple[str, ...] = ()
    moved: Mapping[Path, object] = field(default_factory=dict)


_SCALAR_TYPES: Final = (str, int, float, type(None))
_CONTAINER_TYPES: Final = (dict, list, tuple, Mapping)


def is_scalar(value: object) -> bool:
    """A JSON leaf: string, number, boolean or null."""
    return isinstance(value, _SCALAR_TYPES)


def _show(path: Path) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _items(container: object) -> tuple[bool, Iterator[tuple[object, object]]]:
    """(is an object, iterator over (key or index, value)) of a container."""
    if isinstance(container, Mapping):
        return True, iter(container.items())
    assert isinstance(container, list | tuple)
    return False, enumerate(container)


def _is_container(value: object) -> bool:
    return isinstance(value, _CONTAINER_TYPES)


def flatten(
    record: Mapping[str, object],
    *,
    moved: Collection[Path] = (),
    reserved: Collection[str] = (),
    max_depth: int = MAX_DEPTH,
) -> Flattened:
    """Flatten one record. Raises `TranslationError(invalid_record)` for values that are not JSON
    (or integers no encoder can write) and for nesting deeper than `max_depth`."""
    moved_paths = frozenset(moved)
    reserved_names = frozenset(reserved)
    # Top-level scalars (moved ones included) win every collision, whatever their position.
    top_level = {key for key, value in record.items() if is_scalar(value)}

    properties: dict[str, object] = {}
    dropped: list[str] = []
    moved_out: dict[Path, object] = {}
    claimed: set[str] = set()

    # Each frame: (name prefix, path, is an object, iterator over the children, depth).
    is_object, children = _items(record)
    stack: list[tuple[str, Path, bool, Iterator[tuple[object, object]], int]] = [
        ("", (), is_object, children, 1)
    ]
    while stack:
        prefix, path, is_object, children, depth = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        key, value = child
        if is_object and not isinstance(key, str):
            raise TranslationError(
                ErrorClass.INVALID_RECORD,
                f"object key {key!r} at {_show(path) or 'top level'} is not a string",
            )
        assert isinstance(key, str | int)
        child_path: Path = (*path, key)
        name = f"{prefix}{SEPARATOR}{key}" if path else str(key)
        if isinstance(value, _SCALAR_TYPES):
            if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
                raise TranslationError(
                    ErrorClass.INVALID_RECORD, f"integer out of range at {_show(child_path)}"
                )
        elif _is_container(value):
            if not value:
                continue  # an empty object or array produces no key
            if depth + 1 > max_depth:
                raise TranslationError(
                    ErrorClass.INVALID_RECORD,
                    f"record nests deeper than {max_depth} levels at {_show(child_path)}",
                )
            child_is_object, grandchildren = _items(value)
            stack.append((name, child_path, child_is_object, grandchildren, depth + 1))
            continue
        else:
            raise TranslationError(
                ErrorClass.INVALID_RECORD,
                f"unsupported value of type {describe_type(value)} at {_show(child_path)}",
            )
        if not path:
            # A top-level scalar: its name is unique in the record and wins every collision.
            if child_path in moved_paths:
                moved_out[child_path] = value
            else:
                properties[name] = value
            continue
        if child_path in moved_paths:
            moved_out[child_path] = value
            claimed.add(name)
        elif name in top_level or name in reserved_names or name in claimed:
            dropped.append(name)
        else:
            properties[name] = value
            claimed.add(name)
    return Flattened(properties=properties, dropped=tuple(dropped), moved=moved_out)
