"""createContactactivity: golden bodies, action name fall-back, typed free-form fields."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import create_contactactivity

ACTION = create_contactactivity.ACTION


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("create_contactactivity", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestFields:
    def test_page_with_event_uses_it(self, translator, body_for) -> None:
        """`action` is the event name when there is one, else pageView."""
        body = body_for(translator.translate({"type": "page", "userId": "u", "event": "Pricing"}), ACTION)
        assert body["action"] == "Pricing"

    def test_empty_event_falls_back_to_page_view(self, translator, body_for) -> None:
        """An empty event name counts as absent."""
        body = body_for(translator.translate({"type": "track", "userId": "u", "event": ""}), ACTION)
        assert body["action"] == "pageView"

    def test_numeric_timestamp_passes_through(self, translator, body_for) -> None:
        """Timestamps are sent as they came (a number stays a number)."""
        body = body_for(
            translator.translate({"type": "track", "userId": "u", "timestamp": 1631210000}), ACTION
        )
        assert body["time"] == 1631210000

    def test_properties_not_an_object_is_a_validation_error(self, translator, error_for) -> None:
        """A free-form field must still be an object."""
        message = {"type": "track", "userId": "u", "event": "E", "properties": "oops"}
        assert (
            error_for(translator.translate(message), ACTION) == "'properties' must be an object, got 'oops'"
        )

    def test_properties_one_element_array_is_unwrapped(self, translator, body_for) -> None:
        """AJV array coercion: a one-element array stands for its element."""
        message = {"type": "track", "userId": "u", "event": "E", "properties": [{"a": 1}]}
        assert body_for(translator.translate(message), ACTION)["properties"] == {"a": 1}

    def test_screen_does_not_match_by_default(self, translator) -> None:
        """The default trigger is track or page only."""
        result = translator.translate({"type": "screen", "userId": "u", "name": "Home"})
        assert result.skipped == "no_matching_action"
