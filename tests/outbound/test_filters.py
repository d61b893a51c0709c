"""Per-channel filters and recursion blocking (SPEC §4.3)."""

from __future__ import annotations

import pytest

from processor.config.settings import ChannelFilter, OutboundSettings
from processor.errors import ConfigError
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator
from processor.outcomes import Skipped


def _translator(**filters: ChannelFilter) -> OutboundTranslator:
    return OutboundTranslator(OutboundSettings(filters=filters))


OPEN = {"action": "open", "cID": "c1", "mcID": "m1"}
CLICK = {"action": "click", "cID": "c1", "mcID": "m1"}


class TestFilters:
    def test_default_sends_everything(self, translator):
        for record in (OPEN, CLICK, {"action": "anything", "cID": "c"}):
            assert isinstance(translator.translate(record), OutboundTranslation)

    def test_allow_list_by_segment_name(self):
        translator = _translator(email=ChannelFilter("allow", ("Email Opened",)))
        assert isinstance(translator.translate(OPEN), OutboundTranslation)
        assert translator.translate(CLICK) == Skipped("filtered")

    def test_allow_list_by_cordial_action(self):
        translator = _translator(email=ChannelFilter("allow", ("click",)))
        assert translator.translate(OPEN) == Skipped("filtered")
        assert isinstance(translator.translate(CLICK), OutboundTranslation)

    def test_block_list(self):
        translator = _translator(email=ChannelFilter("block", ("Email Link Clicked",)))
        assert isinstance(translator.translate(OPEN), OutboundTranslation)
        assert translator.translate(CLICK) == Skipped("filtered")

    def test_empty_allow_list_sends_nothing_of_that_channel(self):
        translator = _translator(email=ChannelFilter("allow", ()))
        assert translator.translate(OPEN) == Skipped("filtered")
        assert isinstance(translator.translate({"action": "open", "cID": "c"}), OutboundTranslation)

    def test_filters_are_per_channel(self):
        translator = _translator(sms=ChannelFilter("block", ("click",)))
        assert translator.translate({"action": "click", "channel": "sms", "cID": "c"}) == Skipped("filtered")
        assert isinstance(translator.translate(CLICK), OutboundTranslation)

    def test_custom_events_can_be_blocked(self):
        translator = _translator(custom=ChannelFilter("block", ("Cart Viewed",)))
        assert translator.translate({"action": "Cart Viewed", "cID": "c"}) == Skipped("filtered")
        assert isinstance(translator.translate({"action": "Other", "cID": "c"}), OutboundTranslation)

    def test_filter_after_renaming_uses_the_new_name(self):
        translator = OutboundTranslator(
            OutboundSettings(
                event_names={"email": {"open": "Email Viewed"}},
                filters={"email": ChannelFilter("block", ("Email Viewed",))},
            )
        )
        assert translator.translate(OPEN) == Skipped("filtered")

    def test_filtered_before_identity_check(self):
        translator = _translator(custom=ChannelFilter("allow", ()))
        assert translator.translate({"action": "x"}) == Skipped("filtered")

    @pytest.mark.parametrize(
        "channel_filter",
        [
            pytest.param(ChannelFilter("all", ("x",)), id="events-with-all"),
            pytest.param(ChannelFilter("maybe", ()), id="bad-mode"),  # type: ignore[arg-type]
            pytest.param(ChannelFilter("allow", ("",)), id="empty-event"),
            pytest.param({"mode": "allow"}, id="not-a-filter"),
        ],
    )
    def test_bad_filter_is_a_config_error(self, channel_filter):
        with pytest.raises(ConfigError):
            OutboundTranslator(OutboundSettings(filters={"email": channel_filter}))


class TestRecursion:
    @pytest.mark.parametrize(
        "origin",
        [
            pytest.param({"origin": "segment"}, id="origin"),
            pytest.param({"source": "segment"}, id="source"),
            pytest.param({"properties": {"origin": "segment"}}, id="properties.origin"),
            pytest.param({"properties": {"source": "segment"}}, id="properties.source"),
            pytest.param({"source": " Segment "}, id="case-and-spaces"),
        ],
    )
    def test_segment_origin_is_blocked(self, translator, origin):
        assert translator.translate({**CLICK, **origin}) == Skipped("blocked_recursion")

    @pytest.mark.parametrize(
        "record",
        [
            pytest.param({"origin": "segment"}, id="no-identifier"),
            pytest.param({"source": "segment", "cID": "c", "big": "x" * 100_000}, id="too-large"),
            pytest.param({"properties": {"source": "segment"}, "time": "garbage"}, id="bad-time"),
        ],
    )
    def test_blocked_before_identity_size_and_validation(self, translator, record):
        assert translator.translate(record) == Skipped("blocked_recursion")

    @pytest.mark.parametrize(
        "origin",
        [
            pytest.param({"origin": "cordial"}, id="cordial"),
            pytest.param({"source": "segmentation"}, id="similar-word"),
            pytest.param({"d": {"source": "segment"}}, id="other-object"),
            pytest.param({"properties": "segment"}, id="properties-not-object"),
            pytest.param({"origin": ["segment"]}, id="array"),
        ],
    )
    def test_other_origins_pass(self, translator, origin):
        assert isinstance(translator.translate({**CLICK, **origin}), OutboundTranslation)

    def test_blocked_even_when_filters_would_skip(self):
        translator = _translator(email=ChannelFilter("allow", ()))
        assert translator.translate({**OPEN, "origin": "segment"}) == Skipped("blocked_recursion")
