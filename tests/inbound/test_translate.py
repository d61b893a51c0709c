"""The translator end to end: order of decisions, skips, config errors, and never raising."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.config.settings import ActionSettings, ConsentSettings, InboundSettings
from processor.errors import ConfigError, ErrorClass, TriggerSyntaxError
from processor.inbound import consent
from processor.inbound.requests import ActionRejected, CordialRequest, InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.outcomes import Rejected


class TestDecisions:
    def test_recursion_is_skipped_before_identity(self, translator) -> None:
        """Our own traffic is skipped even when it has no identifier at all."""
        result = translator.translate({"type": "track", "messageId": "m", "context": {"source": "cordial"}})
        assert result == InboundTranslation((), skipped="blocked_recursion", event_id="m")

    def test_structure_before_recursion(self, translator) -> None:
        """A malformed message is rejected even if it claims to come from Cordial."""
        result = translator.translate({"type": "nope", "context": {"source": "cordial"}})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.UNKNOWN_TYPE

    def test_consent_before_identity(self, translator, monkeypatch) -> None:
        """A message held back by consent is skipped, not dead-lettered for its identity."""
        monkeypatch.setattr(consent, "decide", lambda m, s: consent.ConsentDecision(allowed=False))
        assert translator.translate({"type": "identify"}).skipped == "consent"

    def test_consent_receives_the_consent_settings(self, make_translator, monkeypatch) -> None:
        """The policy is called with the message and inbound.consent."""
        seen = []

        def decide(message, settings):
            seen.append((message, settings))
            return consent.ALLOW

        monkeypatch.setattr(consent, "decide", decide)
        translator = make_translator()
        message = {"type": "identify", "userId": "u"}
        translator.translate(message)
        assert seen == [(message, translator.settings.consent)]

    def test_identity_before_matching(self, translator) -> None:
        """An unidentifiable message is rejected even when no action matches it."""
        result = translator.translate({"type": "screen"})
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MISSING_IDENTIFIER

    def test_no_matching_action(self, translator) -> None:
        """Nothing matched → skipped, with the event id."""
        result = translator.translate({"type": "screen", "userId": "u", "messageId": "m"})
        assert result == InboundTranslation((), skipped="no_matching_action", event_id="m")

    def test_results_follow_spec_order(self, make_translator) -> None:
        """One event can trigger several actions; results follow SPEC §3.1 order."""
        every = 'type = "track"'
        translator = make_translator(
            actions={name: {"trigger": every} for name in ("mergeContacts", "upsertContact", "upsertOrder")}
        )
        result = translator.translate({"type": "track", "userId": "u", "event": "X"})
        assert [r.action for r in result.results] == [
            "upsertContact",
            "createContactactivity",
            "upsertOrder",
            "mergeContacts",
        ]
        assert [type(r) for r in result.results] == [
            CordialRequest,
            CordialRequest,
            ActionRejected,
            ActionRejected,
        ]

    def test_disabled_action(self, make_translator) -> None:
        """enabled: false turns a default action off."""
        translator = make_translator(actions={"upsertContact": {"enabled": False}})
        assert translator.translate({"type": "identify", "userId": "u"}).skipped == "no_matching_action"

    def test_segment_id_key_setting(self, body_for) -> None:
        """segmentIdKey comes from the setting; an empty one is left out."""
        translator = InboundTranslator(InboundSettings(segment_id_key="sid"))
        assert (
            body_for(translator.translate({"type": "identify", "userId": "u"}), "upsertContact")[
                "segmentIdKey"
            ]
            == "sid"
        )
        translator = InboundTranslator(InboundSettings(segment_id_key=""))
        assert "segmentIdKey" not in body_for(
            translator.translate({"type": "identify", "userId": "u"}), "upsertContact"
        )

    def test_translation_is_pure(self, translator) -> None:
        """The message is not modified, and the same input gives the same output."""
        message = {"type": "identify", "userId": "u", "traits": {"email": "a@b.co", "x": {"y": 1}}}
        snapshot = orjson.dumps(message)
        first = translator.translate(message)
        assert orjson.dumps(message) == snapshot
        assert translator.translate(message) == first


class TestConfigErrors:
    def test_malformed_trigger_names_action_line_and_column(self) -> None:
        """A bad trigger stops start-up with the action, line and column."""
        settings = InboundSettings(
            actions={"upsertOrder": ActionSettings(trigger='event = "A" or\n  event = ')}
        )
        with pytest.raises(TriggerSyntaxError) as caught:
            InboundTranslator(settings)
        assert "inbound.actions.upsertOrder.trigger" in str(caught.value)
        assert (caught.value.line, caught.value.column) == (2, 11)

    def test_malformed_trigger_of_disabled_action_still_rejected(self) -> None:
        """A typo is reported even while the action is switched off."""
        settings = InboundSettings(actions={"upsertContact": ActionSettings(enabled=False, trigger="type =")})
        with pytest.raises(TriggerSyntaxError):
            InboundTranslator(settings)

    @pytest.mark.parametrize(
        ("actions", "fragment"),
        [
            pytest.param(
                {"upsertContacts": ActionSettings()}, "unknown action 'upsertContacts'", id="unknown-action"
            ),
            pytest.param(
                {"upsertOrder": ActionSettings(fields={"orderId": "$.x"})},
                "unknown field 'orderId'",
                id="unknown-field",
            ),
            pytest.param(
                {"upsertContact": ActionSettings(fields={"userIdentities": {}})},
                "inbound.identities",
                id="identity-field",
            ),
            pytest.param(
                {"upsertOrder": ActionSettings(fields={"orderID": "$..x"})},
                "inbound.actions.upsertOrder.fields.orderID",
                id="bad-path",
            ),
        ],
    )
    def test_bad_action_settings(self, actions, fragment) -> None:
        """Unknown actions and fields, identity overrides and bad paths fail at start-up."""
        with pytest.raises(ConfigError) as caught:
            InboundTranslator(InboundSettings(actions=actions))
        assert fragment in str(caught.value)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)
KEYS = st.sampled_from(
    [
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "event",
        "timestamp",
        "traits",
        "properties",
        "context",
        "messageId",
        "name",
    ]
)
PROPERTY_KEYS = st.sampled_from(
    [
        "email",
        "product_id",
        "sku",
        "quantity",
        "price",
        "total",
        "discount",
        "order_id",
        "products",
        "name",
        "category",
        "source",
    ]
)
NESTED = st.dictionaries(PROPERTY_KEYS, JSON | st.dictionaries(PROPERTY_KEYS, JSON, max_size=4), max_size=8)
MESSAGES = st.builds(
    lambda kind, base, ids, event: {**base, **ids, "type": kind, **({"event": event} if event else {})},
    st.sampled_from(["identify", "track", "page", "screen", "group", "alias"]),
    st.dictionaries(KEYS, JSON | NESTED, max_size=8),
    st.sampled_from([{}, {"userId": "a@b.co"}, {"anonymousId": "anon"}]),  # usable often enough
    st.sampled_from([None, "Product Added", "Product Removed", "Order Completed", "Order Refunded"]),
)
WIDE = InboundTranslator(
    InboundSettings(
        actions={"removeContactFromList": ActionSettings(trigger="userId exists")},
        known_attributes=("plan",),
        consent=ConsentSettings(enabled=True, mode="all", auto_subscribe=True),
    )
)


def _check(result: object) -> None:
    assert isinstance(result, InboundTranslation | Rejected)
    if isinstance(result, Rejected):
        assert isinstance(result.error_class, ErrorClass)
        assert result.message
        return
    for item in result.results:
        if isinstance(item, CordialRequest):
            orjson.dumps(item.body)  # always serialisable
        else:
            assert item.error_class is ErrorClass.VALIDATION
            assert item.message


class TestNeverRaises:
    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(JSON)
    def test_arbitrary_json_values(self, value: object) -> None:
        """Any JSON value gives a translation or a typed rejection, never an exception."""
        _check(WIDE.translate(value))

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(MESSAGES)
    def test_arbitrary_messages_with_a_valid_type(self, message: dict[str, object]) -> None:
        """Messages with a valid type and arbitrary fields never make the translator raise."""
        _check(WIDE.translate(message))
