"""The two walks behind `flatten` (SPEC §4.2 rules in `processor.outbound.flatten`).

* The fast walk handles plain JSON as decoders produce it (`dict`, `list`, `str`, `int`,
  `float`, `bool`, `None`) by recursion, builds names by string concatenation and tracks tuple
  paths only inside the few subtrees that can hold a moved path. On anything else (other
  container or value types, a non-string key, an integer no encoder can write, nesting deeper
  than `max_depth`) it raises `Unusual` and the caller runs the general walk instead.
* The general walk takes any Mapping/sequence input, is iterative (explicit stack), and words
  every `invalid_record` error. It is the reference: tests check the two agree on any input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from processor.errors import ErrorClass
from processor.outbound.record import TranslationError, describe_type

SEPARATOR: Final = "_"

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
"""The integers a JSON encoder (orjson) can write; anything wider cannot be sent."""

Path = tuple[str | int, ...]
"""A leaf's position: object keys as strings, array indexes as integers."""

Parts = tuple[dict[str, object], list[str], dict[Path, object]]
"""(properties, dropped, moved): `Flattened` before it is frozen."""

SCALAR_TYPES: Final = (str, int, float, type(None))
_CONTAINER_TYPES: Final = (dict, list, tuple, Mapping)


@dataclass(frozen=True, slots=True)
class MovedPaths:
    """`moved` compiled once: the paths, and what the fast walk asks of them at each level."""

    paths: frozenset[Path]
    moved_under: Mapping[Path, frozenset[str | int]]
    """Parent path → keys of the moved leaves right under it."""
    tracked_under: Mapping[Path, frozenset[str | int]]
    """Parent path → keys of the children on the way to a moved path (subtrees to track)."""
    top: frozenset[str | int]
    """`moved_under[()]`: top-level leaves that are moved."""
    top_tracked: frozenset[str | int]
    """`tracked_under[()]`: top-level containers whose subtree is tracked."""

    @classmethod
    def of(cls, moved: Collection[Path]) -> MovedPaths:
        paths = frozenset(moved)
        moved_under: dict[Path, set[str | int]] = {}
        tracked_under: dict[Path, set[str | int]] = {}
        for path in paths:
            if path:
                moved_under.setdefault(path[:-1], set()).add(path[-1])
            for end in range(len(path) - 1):
                tracked_under.setdefault(path[:end], set()).add(path[end])
        moved_sets = {parent: frozenset(keys) for parent, keys in moved_under.items()}
        tracked_sets = {parent: frozenset(keys) for parent, keys in tracked_under.items()}
        return cls(
            paths=paths,
            moved_under=moved_sets,
            tracked_under=tracked_sets,
            top=moved_sets.get((), _NO_KEYS),
            top_tracked=tracked_sets.get((), _NO_KEYS),
        )


_NO_KEYS: Final[frozenset[str | int]] = frozenset()

# ---------------------------------------------------------------- fast walk: plain JSON
#
# Module-level functions with the accumulators passed in (closures cost a cell per variable and
# three function objects per record). `blocked` holds the names a nested leaf may not take:
# every top-level scalar (wherever it sits), the reserved names, and the names already taken by
# nested leaves, moved ones included.


class Unusual(Exception):
    """The fast walk met something only the general walk decides (and words the error for)."""


def fast(record: dict[str, object], plan: MovedPaths, reserved: Collection[str], max_depth: int) -> Parts:
    properties: dict[str, object] = {}
    dropped: list[str] = []
    moved_out: dict[Path, object] = {}
    blocked: set[str] | None = None  # built when the first nested container is met
    top = plan.top
    for key, value in record.items():
        if type(key) is not str:
            raise Unusual
        kind = type(value)
        if (
            kind is str
            or kind is bool
            or kind is float
            or value is None
            or (type(value) is int and _INT_MIN <= value <= _INT_MAX)
        ):
            # A top-level scalar: its name is unique in the record and wins every collision.
            if key in top:
                moved_out[(key,)] = value
            else:
                properties[key] = value
        elif kind is dict or kind is list:
            if not value:
                continue
            if max_depth < 2:
                raise Unusual
            if blocked is None:
                blocked = {k for k, v in record.items() if type(v) is not dict and type(v) is not list}
                blocked.update(reserved)
            if key in plan.top_tracked:
                _walk_tracked(
                    value,
                    (key,),
                    key + SEPARATOR,
                    2,
                    max_depth,
                    properties,
                    blocked,
                    dropped,
                    plan,
                    moved_out,
                )
            elif kind is dict:
                _walk_dict(value, key + SEPARATOR, 2, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
            else:
                _walk_list(value, key + SEPARATOR, 2, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        else:
            raise Unusual
    return properties, dropped, moved_out


def _walk_dict(
    node: dict[object, object],
    prefix: str,
    depth: int,
    max_depth: int,
    properties: dict[str, object],
    blocked: set[str],
    dropped: list[str],
) -> None:
    for key, value in node.items():
        if type(key) is not str:
            raise Unusual
        name = prefix + key
        kind = type(value)
        if (
            kind is str
            or kind is bool
            or kind is float
            or value is None
            or (type(value) is int and _INT_MIN <= value <= _INT_MAX)
        ):
            if name in blocked:
                dropped.append(name)
            else:
                properties[name] = value
                blocked.add(name)
        elif kind is dict:
            if value:
                if depth >= max_depth:
                    raise Unusual
                _walk_dict(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        elif kind is list:
            if value:
                if depth >= max_depth:
                    raise Unusual
                _walk_list(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        else:
            raise Unusual


def _walk_list(
    node: list[object],
    prefix: str,
    depth: int,
    max_depth: int,
    properties: dict[str, object],
    blocked: set[str],
    dropped: list[str],
) -> None:
    for index, value in enumerate(node):
        name = prefix + str(index)
        kind = type(value)
        if (
            kind is str
            or kind is bool
            or kind is float
            or value is None
            or (type(value) is int and _INT_MIN <= value <= _INT_MAX)
        ):
            if name in blocked:
                dropped.append(name)
            else:
                properties[name] = value
                blocked.add(name)
        elif kind is dict:
            if value:
                if depth >= max_depth:
                    raise Unusual
                _walk_dict(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        elif kind is list:
            if value:
                if depth >= max_depth:
                    raise Unusual
                _walk_list(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        else:
            raise Unusual


def _walk_tracked(
    node: object,
    path: Path,
    prefix: str,
    depth: int,
    max_depth: int,
    properties: dict[str, object],
    blocked: set[str],
    dropped: list[str],
    plan: MovedPaths,
    moved_out: dict[Path, object],
) -> None:
    """A subtree that may hold a moved path: the same rules, with the tuple path of each child."""
    moved_here = plan.moved_under.get(path, _NO_KEYS)
    tracked_here = plan.tracked_under.get(path, _NO_KEYS)
    children: Iterator[tuple[str | int, object]]  # keys checked below: decoders can be odd
    is_dict = type(node) is dict
    if type(node) is dict:
        children = iter(node.items())
    else:
        assert type(node) is list
        children = enumerate(node)
    for key, value in children:
        if not is_dict:
            name = prefix + str(key)
        elif type(key) is str:
            name = prefix + key
        else:
            raise Unusual
        kind = type(value)
        if (
            kind is str
            or kind is bool
            or kind is float
            or value is None
            or (type(value) is int and _INT_MIN <= value <= _INT_MAX)
        ):
            if key in moved_here:
                moved_out[(*path, key)] = value
                blocked.add(name)
            elif name in blocked:
                dropped.append(name)
            else:
                properties[name] = value
                blocked.add(name)
        elif kind is dict or kind is list:
            if not value:
                continue
            if depth >= max_depth:
                raise Unusual
            if key in tracked_here:
                _walk_tracked(
                    value,
                    (*path, key),
                    name + SEPARATOR,
                    depth + 1,
                    max_depth,
                    properties,
                    blocked,
                    dropped,
                    plan,
                    moved_out,
                )
            elif kind is dict:
                _walk_dict(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
            else:
                _walk_list(value, name + SEPARATOR, depth + 1, max_depth, properties, blocked, dropped)  # type: ignore[arg-type]
        else:
            raise Unusual


# ---------------------------------------------------------------- general walk: any input


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


def general(
    record: Mapping[str, object],
    moved_paths: frozenset[Path],
    reserved_names: frozenset[str],
    max_depth: int,
) -> Parts:
    """The reference walk: iterative, any Mapping/sequence input, exact error messages."""
    # Top-level scalars (moved ones included) win every collision, whatever their position.
    top_level = {key for key, value in record.items() if isinstance(value, SCALAR_TYPES)}

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
        if isinstance(value, SCALAR_TYPES):
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
    return properties, dropped, moved_out
