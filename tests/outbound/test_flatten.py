"""Flattening (SPEC §4.2): the seed's click example, nesting, arrays, empties, collisions, depth."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.errors import ErrorClass
from processor.outbound.flatten import MAX_DEPTH, Path, flatten
from processor.outbound.messages import OutboundTranslation
from processor.outbound.record import TranslationError


class TestSeedExample:
    def test_click_example_properties_equal_the_seed(self, translator, seed_click_record, seed_properties):
        """The seed's click record comes out with exactly the properties the seed prints."""
        result = translator.translate(seed_click_record)
        assert isinstance(result, OutboundTranslation)
        assert result.message["properties"] == seed_properties
        assert result.dropped_keys == ()

    def test_click_example_message(self, translator, seed_click_record, seed_properties):
        """The rest of the seed's message, with our library, integrations and event-time timestamp."""
        result = translator.translate(seed_click_record)
        assert isinstance(result, OutboundTranslation)
        assert result.message == {
            "type": "track",
            "event": "Email Link Clicked",
            "anonymousId": "5c673e6b10986b7e3cd505d1",
            "timestamp": "2021-10-22T16:11:48.000Z",
            "messageId": "cordial-6172e2c81815fd55160c82b1",
            "properties": seed_properties,
            "context": {"library": {"name": "cordial-bridge", "version": "0.1.0"}, "source": "cordial"},
            "integrations": {"Cordial": False, "Cordial (Actions)": False},
        }
        assert list(result.message) == [
            "type",
            "event",
            "anonymousId",
            "timestamp",
            "messageId",
            "properties",
            "context",
            "integrations",
        ]
        assert result.channel == "email"
        assert result.event_id == "6172e2c81815fd55160c82b1"


class TestShape:
    def test_nested_objects_join_with_underscore(self):
        flat = flatten({"a": {"b": {"c": 1}, "d": "x"}, "e": 2})
        assert flat.properties == {"a_b_c": 1, "a_d": "x", "e": 2}

    def test_arrays_by_zero_based_index(self):
        flat = flatten({"tags": ["x", "y"], "m": [[1, 2], [3]]})
        assert flat.properties == {"tags_0": "x", "tags_1": "y", "m_0_0": 1, "m_0_1": 2, "m_1_0": 3}

    def test_arrays_of_objects(self):
        flat = flatten({"properties": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "tags": ["t"]}]}})
        assert flat.properties == {
            "properties_items_0_sku": "A",
            "properties_items_0_qty": 1,
            "properties_items_1_sku": "B",
            "properties_items_1_tags_0": "t",
        }

    def test_empty_containers_produce_no_key(self):
        flat = flatten({"a": {}, "b": [], "c": {"d": {}, "e": [[]], "f": 1}, "g": [{}]})
        assert flat.properties == {"c_f": 1}
        assert flat.dropped == ()

    def test_nulls_and_falsy_leaves_are_copied_unchanged(self):
        flat = flatten({"a": None, "b": {"c": None, "d": False, "e": 0, "f": "", "g": 0.0}})
        assert flat.properties == {"a": None, "b_c": None, "b_d": False, "b_e": 0, "b_f": "", "b_g": 0.0}

    @pytest.mark.parametrize(
        ("record", "expected"),
        [
            pytest.param({"ключ": {"вложен": "значение"}}, {"ключ_вложен": "значение"}, id="cyrillic"),
            pytest.param({"d": {"名前": "🎉"}}, {"d_名前": "🎉"}, id="cjk-emoji"),
            pytest.param({"a_b": {"c_d": 1}}, {"a_b_c_d": 1}, id="underscores"),
            pytest.param({"a.b": {"c.d": 1}}, {"a.b_c.d": 1}, id="dots"),
            pytest.param({"a b": {"c d": 1}}, {"a b_c d": 1}, id="spaces"),
            pytest.param({"": {"": 1}}, {"_": 1}, id="empty-keys"),
        ],
    )
    def test_keys_are_used_literally(self, record, expected):
        assert flatten(record).properties == expected

    def test_record_order_is_kept(self):
        flat = flatten({"z": 1, "m": {"b": 2, "a": 3}, "a": 4})
        assert list(flat.properties) == ["z", "m_b", "m_a", "a"]


class TestCollisions:
    def test_top_level_key_wins_even_when_it_comes_later(self):
        """`a.b` flattens to `a_b`, but the top-level `a_b` (later in the record) keeps the name."""
        flat = flatten({"a": {"b": "nested"}, "a_b": "top"})
        assert flat.properties == {"a_b": "top"}
        assert flat.dropped == ("a_b",)

    def test_top_level_key_wins_when_it_comes_first(self):
        flat = flatten({"a_b": "top", "a": {"b": "nested"}})
        assert flat.properties == {"a_b": "top"}
        assert flat.dropped == ("a_b",)

    def test_top_level_null_still_wins(self):
        flat = flatten({"a": {"b": 1}, "a_b": None})
        assert flat.properties == {"a_b": None}
        assert flat.dropped == ("a_b",)

    def test_first_flattened_key_in_record_order_wins(self):
        flat = flatten({"a": {"b_c": 1}, "a_b": {"c": 2}})
        assert flat.properties == {"a_b_c": 1}
        assert flat.dropped == ("a_b_c",)

    def test_every_loss_is_counted(self):
        flat = flatten(
            {"a_b_c": 0, "a": {"b_c": 1, "b": {"c": 2}}, "a_b": {"c": 3}, "q": {"r_s": 4}, "q_r": {"s": 5}}
        )
        assert flat.properties == {"a_b_c": 0, "q_r_s": 4}
        assert flat.dropped == ("a_b_c", "a_b_c", "a_b_c", "q_r_s")

    def test_reserved_names_beat_flattened_keys(self):
        flat = flatten({"campaign": {"id": "nested"}}, reserved={"campaign_id"})
        assert flat.properties == {}
        assert flat.dropped == ("campaign_id",)

    def test_top_level_container_reserves_nothing(self):
        """A top-level object emits only its children, so its own name is free."""
        flat = flatten({"a": {"b": {"c": 1}}, "a_b": {"c": 2}})
        assert flat.properties == {"a_b_c": 1}
        assert flat.dropped == ("a_b_c",)


class TestMoved:
    def test_moved_leaves_are_taken_out(self):
        flat = flatten({"time": "t", "s": {"link": "", "rl": "r"}}, moved=[("time",), ("s", "link")])
        assert flat.properties == {"s_rl": "r"}
        assert flat.moved == {("time",): "t", ("s", "link"): ""}

    def test_moved_top_level_name_still_wins(self):
        flat = flatten({"message": {"name": "x"}, "message_name": "Fall Sale"}, moved=[("message_name",)])
        assert flat.properties == {}
        assert flat.dropped == ("message_name",)

    def test_moved_container_is_flattened_normally(self):
        """Only scalars are moved: an object where a scalar is expected cannot feed a semantic key."""
        flat = flatten({"link": {"href": "u"}}, moved=[("link",)])
        assert flat.properties == {"link_href": "u"}


class TestBadInput:
    def test_deep_nesting_is_invalid_record_not_recursion_error(self):
        record: dict[str, Any] = {}
        node = record
        for _ in range(100_000):
            node["a"] = {}
            node = node["a"]
        node["leaf"] = 1
        with pytest.raises(TranslationError) as info:
            flatten(record)
        assert info.value.error_class is ErrorClass.INVALID_RECORD

    @pytest.mark.parametrize("container", ["object", "array"])
    def test_depth_limit_is_exact(self, container):
        """The record is level 1; MAX_DEPTH levels pass, one more does not."""

        def nest(levels: int) -> dict[str, Any]:
            value: Any = 1
            for _ in range(levels - 1):
                value = {"k": value} if container == "object" else [value]
            return {"k": value}

        assert len(flatten(nest(MAX_DEPTH)).properties) == 1
        with pytest.raises(TranslationError):
            flatten(nest(MAX_DEPTH + 1))

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({"a": {1: "x"}}, id="non-string-key"),
            pytest.param({"a": {"b": b"bytes"}}, id="bytes"),
            pytest.param({"a": {1, 2}}, id="set"),
            pytest.param({"a": [2**64]}, id="integer-too-large"),
            pytest.param({"a": -(2**63) - 1}, id="integer-too-small"),
        ],
    )
    def test_non_json_values_are_invalid_record(self, record):
        with pytest.raises(TranslationError) as info:
            flatten(record)
        assert info.value.error_class is ErrorClass.INVALID_RECORD


# ---------------------------------------------------------------- property: no leaf lost silently

keys = st.sampled_from(["a", "b", "a_b", "b_a", "_", "", "c.d", "é", "0", "1", "a_b_0"]) | st.text(max_size=4)
scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text()
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=30,
)
records = st.dictionaries(keys, json_values, max_size=6)


def _leaves(value: object, path: Path = ()) -> list[tuple[Path, object]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _name(path: Path) -> str:
    return "_".join(str(part) for part in path)


@settings(max_examples=300, deadline=None)
@given(record=records, moved=st.lists(st.lists(keys, min_size=1, max_size=2).map(tuple), max_size=3))
def test_flatten_never_raises_and_accounts_for_every_scalar_leaf(record, moved):
    """Every scalar leaf is in the properties, in `dropped`, or moved, and the counts add up."""
    flat = flatten(record, moved=moved)
    leaves = _leaves(record)
    assert len(leaves) == len(flat.properties) + len(flat.dropped) + len(flat.moved)
    for path, value in leaves:
        name = _name(path)
        if path in flat.moved:
            assert flat.moved[path] is value
        else:
            assert name in flat.properties
            if flat.properties[name] is not value:
                assert name in flat.dropped
