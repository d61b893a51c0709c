"""upsertContact: golden bodies, attributes from traits, field overrides, consent additions."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound import consent
from processor.inbound.actions import upsert_contact

ACTION = upsert_contact.ACTION


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("upsert_contact", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestAttributes:
    def test_no_traits_means_no_attributes_key(self, translator, body_for) -> None:
        """Without traits the body carries no `attributes` at all (never null or {})."""
        body = body_for(translator.translate({"type": "identify", "userId": "u"}), ACTION)
        assert "attributes" not in body

    def test_email_stays_when_it_did_not_feed_the_identity(self, make_translator, body_for) -> None:
        """Only the trait that became an identity leaves the attributes."""
        translator = make_translator(identities={"channels.email.address": ("$.context.traits.email",)})
        message = {
            "type": "identify",
            "userId": "u",
            "traits": {"email": "t@example.com", "plan": "pro"},
            "context": {"traits": {"email": "c@example.com"}},
        }
        body = body_for(translator.translate(message), ACTION)
        assert body["userIdentities"] == {"channels.email.address": "c@example.com"}
        assert body["attributes"] == {"email": "t@example.com", "plan": "pro"}

    def test_custom_identity_key_removed_from_attributes(self, make_translator, body_for) -> None:
        """A non-e-mail identity from a trait is removed from the attributes too."""
        translator = make_translator(identities={"customerId": ("$.traits.customer_id",)})
        message = {"type": "identify", "traits": {"customer_id": 7, "plan": "pro"}}
        body = body_for(translator.translate(message), ACTION)
        assert body["userIdentities"] == {"customerId": 7}
        assert body["attributes"] == {"plan": "pro"}

    def test_attributes_mapping_override_replaces_traits(self, make_translator, body_for) -> None:
        """An explicit `attributes` mapping is used as written (an object built key by key)."""
        translator = make_translator(
            actions={
                "upsertContact": {"fields": {"attributes": {"fname": "$.traits.first_name", "src": "web"}}}
            }
        )
        message = {"type": "identify", "userId": "u", "traits": {"first_name": "Ada", "x": 1}}
        body = body_for(translator.translate(message), ACTION)
        assert body["attributes"] == {"fname": "Ada", "src": "web"}

    def test_attributes_that_are_not_an_object_fail_validation(self, make_translator, error_for) -> None:
        """Mapping attributes to a scalar is a validation error of upsertContact."""
        translator = make_translator(actions={"upsertContact": {"fields": {"attributes": "$.traits.name"}}})
        message = {"type": "identify", "userId": "u", "traits": {"name": "Ada"}}
        assert "'attributes' must be an object" in error_for(translator.translate(message), ACTION)


class TestConsentHook:
    def test_consent_attributes_and_subscribe_are_added(self, translator, body_for, monkeypatch) -> None:
        """The policy's attributes and subscribeStatus join the traits-derived attributes."""
        decision = consent.ConsentDecision(allowed=True, attributes={"email_opt_in": True}, subscribe=True)
        monkeypatch.setattr(consent, "decide", lambda message, settings: decision)
        message = {"type": "identify", "userId": "u", "traits": {"plan": "pro"}}
        body = body_for(translator.translate(message), ACTION)
        assert list(body["attributes"].items()) == [
            ("plan", "pro"),
            ("email_opt_in", True),
            (consent.SUBSCRIBE_STATUS_KEY, "subscribed"),
        ]

    def test_consent_attributes_without_traits(self, translator, body_for, monkeypatch) -> None:
        """With no traits, the consent attributes alone make up `attributes`."""
        decision = consent.ConsentDecision(allowed=True, attributes={"email_opt_in": None})
        monkeypatch.setattr(consent, "decide", lambda message, settings: decision)
        body = body_for(translator.translate({"type": "identify", "userId": "u"}), ACTION)
        assert body["attributes"] == {"email_opt_in": None}

    def test_consent_refusal_skips_the_message(self, translator, monkeypatch) -> None:
        """A message the policy holds back is skipped with reason `consent`, not rejected."""
        monkeypatch.setattr(
            consent, "decide", lambda message, settings: consent.ConsentDecision(allowed=False)
        )
        result = translator.translate({"type": "identify", "userId": "u", "messageId": "m-1"})
        assert result.results == ()
        assert result.skipped == "consent"
        assert result.event_id == "m-1"
