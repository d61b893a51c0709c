"""The fast flatten walk agrees with the general one on every input, errors included.

`flatten` tries a recursive walk specialised for plain JSON and hands anything unusual to the
general (iterative) walk, both in `processor.outbound.walks`; these tests pin that the two give
the same properties in the same order, the same `dropped` and `moved`, and the same error class
and message.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.errors import ErrorClass
from processor.outbound.flatten import (
    MAX_DEPTH,
    Flattened,
    MovedPaths,
    Parts,
    Path,
    flatten,
    flatten_parts,
)
from processor.outbound.record import TranslationError
from processor.outbound.walks import general


class FrozenMapping(Mapping[str, object]):
    """A Mapping that is not a dict: only the general walk takes it."""

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> object:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Text(str):
    """A str subclass: a scalar for the rules, unusual for the fast walk."""


def _outcome(run: Any) -> tuple[str, object]:
    try:
        flat: Flattened = run()
    except TranslationError as exc:
        return "error", (exc.error_class, exc.message)
    return "ok", (list(flat.properties.items()), flat.dropped, list(flat.moved.items()))


def _frozen(parts: Parts) -> tuple[dict[str, object], tuple[str, ...], dict[Path, object]]:
    properties, dropped, moved_out = parts
    return properties, tuple(dropped), moved_out


def _general_flattened(record: Any, moved: Any, reserved: Any, max_depth: int) -> Flattened:
    return Flattened(*_frozen(general(record, frozenset(moved), frozenset(reserved), max_depth)))


def _both(record: Any, moved: Any = (), reserved: Any = (), max_depth: int = MAX_DEPTH) -> None:
    fast = _outcome(lambda: flatten(record, moved=moved, reserved=reserved, max_depth=max_depth))
    reference = _outcome(lambda: _general_flattened(record, moved, reserved, max_depth))
    assert fast == reference
    parts = _outcome(
        lambda: Flattened(
            *_frozen(
                flatten_parts(record, moved=MovedPaths.of(moved), reserved=reserved, max_depth=max_depth)
            )
        )
    )
    assert parts == fast


keys = st.sampled_from(["a", "b", "a_b", "b_a", "_", "", "0", "1", "a_0", "link", "time"]) | st.text(
    max_size=3
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**65)
    | st.floats()
    | st.text(max_size=4)
    | st.builds(Text, st.text(max_size=2))
)
unusual = st.binary(max_size=2) | st.frozensets(st.integers(), max_size=1) | st.complex_numbers()
json_values = st.recursive(
    scalars | unusual,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(keys, children, max_size=4)
        | st.lists(children, max_size=2).map(tuple)
        | st.dictionaries(keys, children, max_size=2).map(FrozenMapping)
        | st.dictionaries(st.integers(0, 2), children, min_size=1, max_size=1)
    ),
    max_leaves=30,
)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=30,
)


def _paths(value: object, path: Path = ()) -> list[Path]:
    """Every position in a value (containers and leaves), for moved paths that exist."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@st.composite
def cases(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> tuple[Any, list[Path], list[str]]:
    record = draw(st.dictionaries(keys, values, max_size=6))
    existing = _paths(record)
    moved = draw(st.lists(st.sampled_from(existing), max_size=4)) if existing else []
    moved += draw(st.lists(st.lists(keys | st.integers(0, 2), min_size=1, max_size=3).map(tuple), max_size=2))
    reserved = draw(st.lists(keys | st.sampled_from(["a_b", "a_0", "b_a_b"]), max_size=3))
    return record, moved, reserved


@settings(max_examples=400, deadline=None)
@given(case=cases(plain_values))
def test_plain_json_same_result(case):
    record, moved, reserved = case
    _both(record, moved, reserved)


@settings(max_examples=400, deadline=None)
@given(case=cases(json_values), depth=st.sampled_from([1, 2, 3, MAX_DEPTH]))
def test_any_input_same_result_or_same_error(case, depth):
    record, moved, reserved = case
    _both(record, moved, reserved, depth)


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 500])
@pytest.mark.parametrize("container", ["object", "array"])
def test_depth_boundary_same_result(levels, container):
    value: Any = 1
    for _ in range(levels - 1):
        value = {"k": value} if container == "object" else [value]
    _both({"k": value, "e": {}}, moved=[("k", "k"), ("k", 0)])


def test_top_level_mapping_that_is_not_a_dict():
    _both(FrozenMapping({"a": {"b": 1}, "a_b": 2}))


@pytest.mark.parametrize(
    ("record", "message"),
    [
        pytest.param({"a": {1: "x"}}, "object key 1 at a is not a string", id="non-string-key"),
        pytest.param({2: "x"}, "object key 2 at top level is not a string", id="non-string-top-key"),
        pytest.param({"a": [0, 2**64]}, "integer out of range at a[1]", id="integer-too-large"),
        pytest.param({"a": {"b": [b"x"]}}, "unsupported value of type bytes at a.b[0]", id="bytes"),
        pytest.param({"a": [{"b": {1, 2}}]}, "unsupported value of type set at a[0].b", id="set"),
    ],
)
def test_error_messages_name_the_position(record, message):
    with pytest.raises(TranslationError) as info:
        flatten(record)
    assert info.value.error_class is ErrorClass.INVALID_RECORD
    assert info.value.message == message


def test_depth_error_message():
    value: Any = 1
    for _ in range(MAX_DEPTH):
        value = [value]
    with pytest.raises(TranslationError) as info:
        flatten({"k": value})
    expected_path = "k" + "[0]" * (MAX_DEPTH - 1)
    assert info.value.message == f"record nests deeper than {MAX_DEPTH} levels at {expected_path}"


class TestMovedPaths:
    def test_array_index_in_a_moved_path(self):
        flat = flatten({"a": ["x", "y"], "b": {"a": ["z"]}}, moved=[("a", 0)])
        assert flat.properties == {"a_1": "y", "b_a_0": "z"}
        assert flat.moved == {("a", 0): "x"}

    def test_moved_leaf_deep_in_a_tracked_subtree_claims_its_name(self):
        flat = flatten({"s": {"t": {"u": 1, "v": 2}}, "s_t": {"u": 3}}, moved=[("s", "t", "u")])
        assert flat.properties == {"s_t_v": 2}
        assert flat.moved == {("s", "t", "u"): 1}
        assert flat.dropped == ("s_t_u",)

    def test_compiled_paths_give_the_same_result(self, seed_click_record):
        moved = [("time",), ("link",), ("system_properties", "link"), ("message_name",), ("subject",)]
        assert flatten(seed_click_record, moved=MovedPaths.of(moved)) == flatten(
            seed_click_record, moved=moved
        )


def test_nearly_full_stack_falls_back_to_the_iterative_walk():
    """The fast walk recurses once per level; with little stack left the general walk answers."""
    record: dict[str, Any] = {"leaf": 0}
    node = record
    for level in range(MAX_DEPTH - 1):
        node["n"] = {"x": level}
        node = node["n"]
    expected = _general_flattened(record, (), (), MAX_DEPTH)
    frames = sum(1 for _ in traceback.walk_stack(None))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames + 30)
    try:
        result = flatten(record)
    finally:
        sys.setrecursionlimit(limit)
    assert result == expected
