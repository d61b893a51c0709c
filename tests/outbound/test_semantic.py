"""E-mail semantic keys and the fields moved into them (SPEC §4.2)."""

from __future__ import annotations

from typing import Any

import pytest

from processor.outbound.messages import OutboundTranslation

BASE = {"action": "open", "cID": "c1", "bmID": "b1", "mcID": "m1"}


def _properties(translator, **fields):
    result = translator.translate({**BASE, **fields})
    assert isinstance(result, OutboundTranslation), result
    return result


def test_all_semantic_keys_from_their_sources(translator):
    result = _properties(translator, message_name="Fall Sale", subject="10% Off", link="https://x/1")
    props = result.message["properties"]
    assert props["campaign_id"] == "b1"
    assert props["email_id"] == "m1"
    assert props["campaign_name"] == "Fall Sale"
    assert props["email_subject"] == "10% Off"
    assert props["link_url"] == "https://x/1"
    # identifiers stay; the semantic-only sources are moved, not copied
    assert props["bmID"] == "b1"
    assert props["mcID"] == "m1"
    for moved in ("message_name", "subject", "link"):
        assert moved not in props
    assert list(props)[-5:] == ["campaign_id", "email_id", "campaign_name", "email_subject", "link_url"]


@pytest.mark.parametrize("empty", [None, ""])
def test_absent_null_or_empty_sources_add_no_key(translator, empty):
    result = _properties(translator, bmID=empty, message_name=empty, subject=empty, link=empty)
    props = result.message["properties"]
    for key in ("campaign_id", "campaign_name", "email_subject", "link_url"):
        assert key not in props
    assert props["email_id"] == "m1"
    assert props["bmID"] == empty  # an identifier stays as a property, even empty
    for moved in ("message_name", "subject", "link"):
        assert moved not in props


def test_sources_absent_altogether(translator):
    result = translator.translate({"action": "open", "channel": "email", "cID": "c1"})
    assert isinstance(result, OutboundTranslation)
    assert result.message["properties"] == {"action": "open", "channel": "email", "cID": "c1"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"link": "L", "system_properties": {"link": "S", "rl": "R"}}, "L", id="link-first"),
        pytest.param({"link": "", "system_properties": {"link": "S", "rl": "R"}}, "S", id="system-link"),
        pytest.param({"system_properties": {"link": None, "rl": "R"}}, "R", id="rl-last"),
    ],
)
def test_link_url_takes_the_first_present_source(translator, fields, expected):
    props = _properties(translator, **fields).message["properties"]
    assert props["link_url"] == expected
    assert "system_properties_link" not in props
    assert props["system_properties_rl"] == "R"


def test_non_email_events_get_no_semantic_keys_and_keep_their_fields(translator):
    result = translator.translate(
        {
            "action": "click",
            "channel": "sms",
            "cID": "c1",
            "bmID": "b1",
            "mcID": "m1",
            "link": "L",
            "subject": "S",
            "message_name": "N",
            "system_properties": {"link": "SL"},
        }
    )
    assert isinstance(result, OutboundTranslation)
    props: Any = result.message["properties"]
    assert props["link"] == "L"
    assert props["subject"] == "S"
    assert props["message_name"] == "N"
    assert props["system_properties_link"] == "SL"
    for key in ("campaign_id", "email_id", "campaign_name", "email_subject", "link_url"):
        assert key not in props


class TestCollisionsWithSemanticKeys:
    def test_top_level_record_key_beats_semantic_key(self, translator):
        result = _properties(translator, campaign_id="mine")
        assert result.message["properties"]["campaign_id"] == "mine"
        assert result.dropped_keys == ("campaign_id",)

    def test_semantic_key_beats_flattened_key(self, translator):
        result = _properties(translator, email={"id": "nested"})
        assert result.message["properties"]["email_id"] == "m1"
        assert result.dropped_keys == ("email_id",)

    def test_flattened_key_kept_when_the_semantic_key_is_absent(self, translator):
        result = _properties(translator, link_url=None, campaign={"name": "nested"})
        props = result.message["properties"]
        assert props["campaign_name"] == "nested"
        assert props["link_url"] is None
        assert result.dropped_keys == ()

    def test_moved_message_name_keeps_its_name_from_a_flattened_key(self, translator):
        """`message.name` would flatten to `message_name`, the name of a moved field: it is dropped."""
        result = _properties(translator, message_name="Fall Sale", message={"name": "nested"})
        props = result.message["properties"]
        assert "message_name" not in props
        assert props["campaign_name"] == "Fall Sale"
        assert result.dropped_keys == ("message_name",)
