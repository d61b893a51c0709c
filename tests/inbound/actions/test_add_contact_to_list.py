"""addContactToList: golden bodies, groupId coercion and requirement."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import add_contact_to_list

ACTION = add_contact_to_list.ACTION


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("add_contact_to_list", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestFields:
    def test_numeric_group_id_becomes_a_string(self, translator, body_for) -> None:
        """groupId is a string field: 42 is sent as "42"."""
        body = body_for(translator.translate({"type": "group", "userId": "u", "groupId": 42}), ACTION)
        assert body["groupId"] == "42"

    @pytest.mark.parametrize("group_id", [None, ""], ids=["null", "empty"])
    def test_missing_group_id_is_a_validation_error(self, translator, error_for, group_id) -> None:
        """A null or empty groupId is dropped, and then missing."""
        message = {"type": "group", "userId": "u", "groupId": group_id}
        assert error_for(translator.translate(message), ACTION) == "missing required field 'groupId'"

    def test_list_name_mapping_override(self, make_translator, body_for) -> None:
        """A field mapping can take the list name from elsewhere, with fall-backs."""
        translator = make_translator(
            actions={"addContactToList": {"fields": {"listName": ["$.traits.list", "$.traits.name"]}}}
        )
        message = {"type": "group", "userId": "u", "groupId": "g", "traits": {"list": None, "name": "N"}}
        assert body_for(translator.translate(message), ACTION)["listName"] == "N"
