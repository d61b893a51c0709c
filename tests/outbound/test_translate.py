"""The translator end to end: bad records, size limit, message shape; never raises."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.config.settings import OutboundSettings
from processor.errors import ConfigError, ErrorClass
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator
from processor.outcomes import Rejected, Skipped


class TestBadRecords:
    @pytest.mark.parametrize(
        "value",
        [[], [{"action": "x"}], "text", 3, 1.5, True, None],
        ids=["empty-array", "array", "string", "int", "float", "bool", "null"],
    )
    def test_not_an_object_is_invalid_record(self, translator, value):
        result = translator.translate(value)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.INVALID_RECORD

    @pytest.mark.parametrize("record", [{"cID": "c"}, {"cID": "c", "action": None}], ids=["absent", "null"])
    def test_missing_action_is_invalid_record(self, translator, record):
        result = translator.translate(record)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.INVALID_RECORD

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({"cID": "c", "action": ""}, id="empty-action"),
            pytest.param({"cID": "c", "action": "  "}, id="blank-action"),
            pytest.param({"cID": "c", "action": 5}, id="numeric-action"),
            pytest.param({"cID": "c", "action": "x", "channel": 5}, id="numeric-channel"),
        ],
    )
    def test_unusable_fields_are_validation(self, translator, record):
        result = translator.translate(record)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.VALIDATION

    def test_deep_nesting_is_invalid_record(self, translator):
        nested: Any = "leaf"
        for _ in range(5000):
            nested = {"n": nested}
        result = translator.translate({"action": "x", "cID": "c", "deep": nested})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.INVALID_RECORD

    def test_error_messages_do_not_echo_values(self, translator):
        result = translator.translate({"action": "x", "cID": {"secret": "s3cr3t-value"}})
        assert isinstance(result, Rejected)
        assert "s3cr3t" not in result.message


class TestSizeLimit:
    def _message_size(self, record: dict[str, Any]) -> int:
        result = OutboundTranslator(OutboundSettings()).translate(record)
        assert isinstance(result, OutboundTranslation)
        return len(orjson.dumps(result.message))

    def test_exactly_at_the_limit_passes_one_byte_over_fails(self):
        record = {"action": "x", "cID": "c", "_id": "i", "blob": ""}
        limit = self._message_size(record) + 10
        at_limit = OutboundTranslator(OutboundSettings(message_max_bytes=limit))
        assert isinstance(at_limit.translate({**record, "blob": "y" * 10}), OutboundTranslation)
        result = at_limit.translate({**record, "blob": "y" * 11})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MESSAGE_TOO_LARGE
        assert str(limit) in result.message

    def test_default_limit_is_32_kb(self, translator):
        result = translator.translate({"action": "x", "cID": "c", "blob": "y" * 32_000})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MESSAGE_TOO_LARGE

    def test_non_positive_limit_is_a_config_error(self):
        with pytest.raises(ConfigError):
            OutboundTranslator(OutboundSettings(message_max_bytes=0))

    def test_missing_identifier_is_reported_before_size(self, translator):
        result = translator.translate({"action": "x", "blob": "y" * 40_000})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MISSING_IDENTIFIER


class TestShape:
    def test_full_key_order(self, translator):
        result = translator.translate(
            {"action": "x", "cID": "c", "segment_id": "u", "time": "2021-10-22T16:11:48Z", "_id": "i"}
        )
        assert isinstance(result, OutboundTranslation)
        assert list(result.message) == [
            "type",
            "event",
            "userId",
            "anonymousId",
            "timestamp",
            "messageId",
            "properties",
            "context",
            "integrations",
        ]

    def test_minimal_message(self, translator):
        result = translator.translate({"action": "Cart Viewed", "cID": "c"})
        assert isinstance(result, OutboundTranslation)
        assert list(result.message) == [
            "type",
            "event",
            "anonymousId",
            "messageId",
            "properties",
            "context",
            "integrations",
        ]
        assert result.message["properties"] == {"action": "Cart Viewed", "cID": "c"}
        assert result.event_id == result.message["messageId"]

    def test_input_is_not_mutated(self, translator, seed_click_record):
        before = orjson.dumps(seed_click_record)
        translator.translate(seed_click_record)
        assert orjson.dumps(seed_click_record) == before

    def test_messages_do_not_share_mutable_parts(self, translator):
        first = translator.translate({"action": "x", "cID": "c"})
        assert isinstance(first, OutboundTranslation)
        first.message["context"]["source"] = "changed"  # type: ignore[index]
        first.message["integrations"]["Cordial"] = True  # type: ignore[index]
        second = translator.translate({"action": "x", "cID": "c"})
        assert isinstance(second, OutboundTranslation)
        assert second.message["context"] == {
            "library": {"name": "cordial-bridge", "version": "0.1.0"},
            "source": "cordial",
        }
        assert second.message["integrations"] == {"Cordial": False, "Cordial (Actions)": False}


# ---------------------------------------------------------------- property: never raises

interesting_keys = st.sampled_from(
    [
        "action",
        "cID",
        "mcID",
        "bmID",
        "_id",
        "time",
        "channel",
        "origin",
        "source",
        "properties",
        "segment_id",
        "link",
        "subject",
        "message_name",
        "system_properties",
        "attributes",
        "contact",
    ]
) | st.text(max_size=6)
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["open", "click", "crdl_app_open", "segment", "email", "2021-10-22T16:11:48+0000"]),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(interesting_keys, c, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(value=anything | st.dictionaries(interesting_keys, anything, max_size=8))
def test_translate_never_raises_and_results_serialise(value):
    translator = OutboundTranslator(OutboundSettings(message_max_bytes=2_000))
    result = translator.translate(value)
    assert isinstance(result, OutboundTranslation | Skipped | Rejected)
    if isinstance(result, OutboundTranslation):
        assert len(orjson.dumps(result.message)) <= 2_000
        assert result.message["type"] == "track"
        assert "anonymousId" in result.message or "userId" in result.message
    elif isinstance(result, Rejected):
        assert result.message


class TestEncoded:
    def test_seed_record_encoded_is_the_message_bytes(self, translator, seed_click_record):
        result = translator.translate(seed_click_record)
        assert isinstance(result, OutboundTranslation)
        assert result.encoded == orjson.dumps(result.message)
        assert orjson.loads(result.encoded)["messageId"] == "cordial-6172e2c81815fd55160c82b1"

    def test_encoded_is_what_the_size_limit_measured(self):
        record = {"action": "x", "cID": "c", "_id": "i"}
        size = len(orjson.dumps(OutboundTranslator(OutboundSettings()).translate(record).message))  # type: ignore[union-attr]
        result = OutboundTranslator(OutboundSettings(message_max_bytes=size)).translate(record)
        assert isinstance(result, OutboundTranslation)
        assert len(result.encoded) == size

    def test_built_by_hand_it_defaults_to_empty(self):
        assert OutboundTranslation({"type": "track"}, "e1", "email").encoded == b""


@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(interesting_keys, anything, max_size=8))
def test_encoded_equals_the_serialised_message(value):
    result = OutboundTranslator(OutboundSettings()).translate({"action": "open", "cID": "c", **value})
    if isinstance(result, OutboundTranslation):
        assert result.encoded == orjson.dumps(result.message)
