"""removeContactFromList: off unless configured; golden bodies once a trigger is set."""

from __future__ import annotations

import orjson
import pytest

from processor.errors import ConfigError
from processor.inbound.actions import remove_contact_from_list

ACTION = remove_contact_from_list.ACTION


class TestEnabling:
    def test_disabled_by_default(self, translator) -> None:
        """With no trigger configured a group call only adds to the list."""
        result = translator.translate({"type": "group", "userId": "u", "groupId": "g"})
        assert [r.action for r in result.results] == ["addContactToList"]

    def test_enabled_without_trigger_is_a_config_error(self, make_translator) -> None:
        """Enabling it without a trigger is rejected at start-up, naming the action."""
        with pytest.raises(ConfigError, match=r"removeContactFromList.*no default trigger"):
            make_translator(actions={"removeContactFromList": {"enabled": True}})

    def test_trigger_enables_it(self, make_translator) -> None:
        """A configured trigger turns it on; results follow SPEC order."""
        translator = make_translator(
            actions={"removeContactFromList": {"trigger": 'type = "group" and traits.action = "leave"'}}
        )
        result = translator.translate(
            {"type": "group", "userId": "u", "groupId": "g", "traits": {"action": "leave"}}
        )
        assert [r.action for r in result.results] == ["addContactToList", ACTION]

    def test_trigger_with_enabled_false_stays_off(self, make_translator) -> None:
        """enabled: false wins over a trigger."""
        translator = make_translator(
            actions={"removeContactFromList": {"trigger": 'type = "group"', "enabled": False}}
        )
        result = translator.translate({"type": "group", "userId": "u", "groupId": "g"})
        assert [r.action for r in result.results] == ["addContactToList"]


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, make_translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        translator = make_translator(actions={"removeContactFromList": {"trigger": 'type = "group"'}})
        event, expected = golden("remove_contact_from_list", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected
