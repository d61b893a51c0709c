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

from collections.abc import Collection, Iterator, Mapping, Sequence
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


def is_scalar(value: object) -> bool:
    """A JSON leaf: string, number, boolean or null."""
    return value is None or isinstance(value, str | int | float)


def _check_leaf(value: object, path: Path) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and not _INT_MIN <= value <= _INT_MAX:
        raise TranslationError(ErrorClass.INVALID_RECORD, f"integer out of range at {_show(path)}")


def _show(path: Path) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _children(container: object, path: Path) -> Iterator[tuple[str | int, object]]:
    if isinstance(container, Mapping):
        for key, value in container.items():
            if not isinstance(key, str):
                raise TranslationError(
                    ErrorClass.INVALID_RECORD,
                    f"object key {key!r} at {_show(path) or 'top level'} is not a string",
                )
            yield key, value
    else:
        assert isinstance(container, Sequence)
        yield from enumerate(container)


def _is_container(value: object) -> bool:
    return isinstance(value, Mapping | list | tuple)


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
    top_level: set[str] = set()
    for key, value in _children(record, ()):
        if is_scalar(value):
            top_level.add(str(key))

    properties: dict[str, object] = {}
    dropped: list[str] = []
    moved_out: dict[Path, object] = {}
    claimed: set[str] = set()

    # Each frame: (name prefix, path, iterator over the container's children, depth).
    stack: list[tuple[str, Path, Iterator[tuple[str | int, object]], int]] = [
        ("", (), _children(record, ()), 1)
    ]
    while stack:
        prefix, path, children, depth = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        key, value = child
        child_path: Path = (*path, key)
        name = f"{prefix}{SEPARATOR}{key}" if path else str(key)
        if _is_container(value):
            if not value:
                continue  # an empty object or array produces no key
            if depth + 1 > max_depth:
                raise TranslationError(
                    ErrorClass.INVALID_RECORD,
                    f"record nests deeper than {max_depth} levels at {_show(child_path)}",
                )
            stack.append((name, child_path, _children(value, child_path), depth + 1))
            continue
        if not is_scalar(value):
            raise TranslationError(
                ErrorClass.INVALID_RECORD,
                f"unsupported value of type {describe_type(value)} at {_show(child_path)}",
            )
        _check_leaf(value, child_path)
        if not path:
            # A top-level scalar: its name is unique in the record and wins every collision.
            if child_path in moved_paths:
                moved_out[child_path] = value
            else:
                properties[name] = value
            continue
        taken = name in top_level or name in reserved_names or name in claimed
        if child_path in moved_paths:
            moved_out[child_path] = value
            claimed.add(name)
        elif taken:
            dropped.append(name)
        else:
            properties[name] = value
            claimed.add(name)
    return Flattened(properties=properties, dropped=tuple(dropped), moved=moved_out)
