"""Identifiers and time: userId lookup, anonymousId, deterministic messageId, timestamps."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from processor.config.settings import OutboundSettings
from processor.errors import ErrorClass
from processor.outbound.identity import message_id, normalise_timestamp
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator
from processor.outcomes import Rejected


def properties_of(result: OutboundTranslation) -> dict[str, Any]:
    properties = result.message["properties"]
    assert isinstance(properties, dict)
    return properties


class TestTimestamp:
    @pytest.mark.parametrize(
        ("time", "expected"),
        [
            pytest.param("2021-10-22T16:11:48+0000", "2021-10-22T16:11:48.000Z", id="plus-0000"),
            pytest.param("2021-10-22T16:11:48+00:00", "2021-10-22T16:11:48.000Z", id="plus-00-colon-00"),
            pytest.param("2021-10-22T16:11:48Z", "2021-10-22T16:11:48.000Z", id="zulu"),
            pytest.param("2021-10-22T16:11:48.5Z", "2021-10-22T16:11:48.500Z", id="tenths"),
            pytest.param("2021-10-22T16:11:48.123Z", "2021-10-22T16:11:48.123Z", id="millis"),
            pytest.param(
                "2021-10-22T16:11:48.123999+0000", "2021-10-22T16:11:48.123Z", id="micros-truncated"
            ),
            pytest.param("2021-10-22T16:11:48.123456789Z", "2021-10-22T16:11:48.123Z", id="nanos"),
            pytest.param("2021-10-22T18:11:48+0200", "2021-10-22T16:11:48.000Z", id="plus-0200"),
            pytest.param("2021-10-22T11:11:48-05:00", "2021-10-22T16:11:48.000Z", id="minus-05-00"),
            pytest.param("2021-10-23T01:41:48.250+09:30", "2021-10-22T16:11:48.250Z", id="half-hour-offset"),
            pytest.param("2021-10-22T23:30:00-0100", "2021-10-23T00:30:00.000Z", id="crosses-midnight"),
            pytest.param("2021-10-22T16:11:48", "2021-10-22T16:11:48.000Z", id="naive-is-utc"),
            pytest.param("2021-10-22 16:11:48+0000", "2021-10-22T16:11:48.000Z", id="space-separator"),
            pytest.param(1634919108, "2021-10-22T16:11:48.000Z", id="epoch-seconds"),
            pytest.param(1634919108.54, "2021-10-22T16:11:48.540Z", id="epoch-seconds-fraction"),
            pytest.param(1634919108540, "2021-10-22T16:11:48.540Z", id="epoch-millis"),
            pytest.param(0, "1970-01-01T00:00:00.000Z", id="epoch-zero"),
        ],
    )
    def test_cordial_formats(self, time, expected):
        assert normalise_timestamp(time) == expected

    @pytest.mark.parametrize("time", [None, ""])
    def test_absent_time_gives_no_timestamp(self, translator, time):
        record = {"action": "x", "cID": "c1", "time": time}
        result = translator.translate(record)
        assert isinstance(result, OutboundTranslation)
        assert "timestamp" not in result.message
        assert "time" not in properties_of(result)

    def test_time_is_moved_not_copied(self, translator):
        result = translator.translate({"action": "x", "cID": "c1", "time": "2021-10-22T16:11:48Z"})
        assert isinstance(result, OutboundTranslation)
        assert result.message["timestamp"] == "2021-10-22T16:11:48.000Z"
        assert "time" not in properties_of(result)

    @pytest.mark.parametrize(
        "time",
        [
            pytest.param("yesterday", id="words"),
            pytest.param("2021-13-01T00:00:00Z", id="month-13"),
            pytest.param("2021-10-22T16:11:48+25:00", id="offset-out-of-range"),
            pytest.param(True, id="boolean"),
            pytest.param({"$date": "2021-10-22"}, id="object"),
            pytest.param(["2021-10-22T16:11:48Z"], id="array"),
            pytest.param(float("inf"), id="infinity"),
            pytest.param(float("nan"), id="nan"),
            pytest.param(10**20, id="epoch-far-future"),
            pytest.param("0001-01-01T00:00:00+01:00", id="before-year-1-in-utc"),
        ],
    )
    def test_unparseable_time_is_validation(self, translator, time):
        result = translator.translate({"action": "x", "cID": "c1", "time": time})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.VALIDATION


class TestIdentifiers:
    def test_anonymous_id_is_cid(self, translator):
        result = translator.translate({"action": "x", "cID": "c1"})
        assert isinstance(result, OutboundTranslation)
        assert result.message["anonymousId"] == "c1"
        assert "userId" not in result.message

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({"segment_id": "u1"}, id="top-level"),
            pytest.param({"attributes": {"segment_id": "u1"}}, id="attributes"),
            pytest.param({"contact": {"attributes": {"segment_id": "u1"}}}, id="contact-attributes"),
            pytest.param(
                {"segment_id": "", "attributes": {"segment_id": "u1"}}, id="empty-top-level-skipped"
            ),
        ],
    )
    def test_user_id_from_the_segment_id_attribute(self, translator, record):
        result = translator.translate({"action": "x", "cID": "c1", **record})
        assert isinstance(result, OutboundTranslation)
        assert list(result.message)[:4] == ["type", "event", "userId", "anonymousId"]
        assert result.message["userId"] == "u1"

    def test_user_id_attribute_stays_a_property(self, translator):
        result = translator.translate({"action": "x", "cID": "c1", "segment_id": "u1"})
        assert isinstance(result, OutboundTranslation)
        assert properties_of(result)["segment_id"] == "u1"

    def test_configured_segment_id_key(self):
        translator = OutboundTranslator(OutboundSettings(segment_id_key="seg_uid"))
        result = translator.translate({"action": "x", "seg_uid": "u9", "segment_id": "other"})
        assert isinstance(result, OutboundTranslation)
        assert result.message["userId"] == "u9"
        assert "anonymousId" not in result.message

    def test_numeric_ids_become_strings(self, translator):
        result = translator.translate({"action": "x", "cID": 42, "segment_id": 7})
        assert isinstance(result, OutboundTranslation)
        assert (result.message["anonymousId"], result.message["userId"]) == ("42", "7")

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({}, id="none"),
            pytest.param({"cID": None, "segment_id": ""}, id="null-and-empty"),
            pytest.param({"cID": "", "attributes": {"segment_id": None}}, id="empty-and-null-nested"),
        ],
    )
    def test_missing_identifier(self, translator, record):
        result = translator.translate({"action": "x", **record})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MISSING_IDENTIFIER

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({"cID": {"id": 1}}, id="object-cid"),
            pytest.param({"cID": "c", "segment_id": True}, id="bool"),
        ],
    )
    def test_identifier_of_the_wrong_type_is_validation(self, translator, record):
        result = translator.translate({"action": "x", **record})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.VALIDATION


class TestMessageId:
    def test_from_cordial_id(self):
        assert message_id({"_id": "abc", "x": 1}) == "cordial-abc"
        assert message_id({"_id": 12}) == "cordial-12"

    def test_hash_ignores_key_order_without_id(self):
        first = message_id({"action": "x", "cID": "c", "d": {"a": 1, "b": 2}})
        second = message_id({"d": {"b": 2, "a": 1}, "cID": "c", "action": "x"})
        assert first == second
        assert first.startswith("cordial-sha256-")

    @pytest.mark.parametrize("cordial_id", [None, "", True, {"$oid": "abc"}])
    def test_unusable_id_falls_back_to_the_hash(self, cordial_id):
        assert message_id({"_id": cordial_id, "a": 1}).startswith("cordial-sha256-")

    def test_same_record_same_id_through_the_translator(self, translator, seed_click_record):
        first = translator.translate(seed_click_record)
        second = translator.translate(dict(reversed(list(seed_click_record.items()))))
        assert isinstance(first, OutboundTranslation)
        assert isinstance(second, OutboundTranslation)
        assert first.message["messageId"] == second.message["messageId"]


json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=8)
small_records = st.dictionaries(
    st.text(max_size=5).filter(lambda k: k != "_id"),
    st.recursive(
        json_scalars,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=8,
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(record=small_records, other=small_records)
def test_message_id_stable_and_distinct_without_cordial_id(record, other):
    """Without `_id`: equal records give equal ids, different records different ids."""
    assert message_id(record) == message_id(dict(record))
    assume(record != other)
    assert message_id(record) != message_id(other)


@settings(max_examples=200, deadline=None)
@given(first=st.text(min_size=1), second=st.text(min_size=1), body=small_records)
def test_message_id_follows_cordial_id(first, second, body):
    """With `_id`: the id alone decides, so a replayed event keeps its id whatever else changed."""
    assert message_id({**body, "_id": first}) == message_id({"_id": first})
    assume(first != second)
    assert message_id({**body, "_id": first}) != message_id({**body, "_id": second})
