"""Identities: default fall-back order, e-mail checks, missing identifiers, custom identities."""

from __future__ import annotations

import pytest

from processor.config.settings import DEFAULT_IDENTITIES
from processor.errors import ConfigError, ErrorClass
from processor.inbound.exceptions import TranslationError
from processor.inbound.identity import compile_identities, is_email, resolve_identity

DEFAULT = compile_identities(DEFAULT_IDENTITIES)
KEY = "channels.email.address"


class TestDefaultFallback:
    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            pytest.param(
                {
                    "userId": "u@x.io",
                    "traits": {"email": "t@x.io"},
                    "context": {"traits": {"email": "c@x.io"}},
                    "properties": {"email": "p@x.io"},
                },
                "t@x.io",
                id="traits-first",
            ),
            pytest.param(
                {"userId": "u@x.io", "traits": {"email": ""}, "context": {"traits": {"email": "c@x.io"}}},
                "c@x.io",
                id="context-traits-when-traits-empty",
            ),
            pytest.param(
                {"userId": "u@x.io", "traits": {"email": None}, "properties": {"email": "p@x.io"}},
                "p@x.io",
                id="properties-third",
            ),
            pytest.param({"userId": "u@x.io"}, "u@x.io", id="user-id-when-an-email"),
        ],
    )
    def test_first_present_source_wins(self, message, expected) -> None:
        """traits.email, context.traits.email, properties.email, then userId."""
        assert resolve_identity(message, DEFAULT).user_identities == {KEY: expected}

    def test_user_id_that_is_not_an_email_is_skipped(self) -> None:
        """A plain userId is the segmentId, not an e-mail identity."""
        identity = resolve_identity({"userId": "user-42"}, DEFAULT)
        assert identity.user_identities == {}
        assert identity.segment_id == "user-42"


class TestFailures:
    @pytest.mark.parametrize(
        "message",
        [
            pytest.param({"userId": "a@b.co", "traits": {"email": "not-an-email"}}, id="bad-trait"),
            pytest.param({"anonymousId": "x", "properties": {"email": "a@b"}}, id="no-dot-domain"),
            pytest.param({"anonymousId": "x", "traits": {"email": "a b@c.co"}}, id="space"),
            pytest.param({"anonymousId": "x", "traits": {"email": 42}}, id="number"),
            pytest.param({"anonymousId": "x", "traits": {"email": ["a@b.co"]}}, id="list"),
        ],
    )
    def test_not_an_email_is_invalid_identifier(self, message) -> None:
        """Where e-mail is the key, a value that is not one dead-letters the message."""
        with pytest.raises(TranslationError) as caught:
            resolve_identity(message, DEFAULT)
        assert caught.value.error_class is ErrorClass.INVALID_IDENTIFIER
        assert KEY in caught.value.message

    @pytest.mark.parametrize(
        "message",
        [
            pytest.param({}, id="nothing"),
            pytest.param({"userId": None, "anonymousId": "", "traits": {"email": None}}, id="all-empty"),
        ],
    )
    def test_nothing_to_identify_by_is_missing_identifier(self, message) -> None:
        """No userId, no anonymousId, no identity → missing_identifier."""
        with pytest.raises(TranslationError) as caught:
            resolve_identity(message, DEFAULT)
        assert caught.value.error_class is ErrorClass.MISSING_IDENTIFIER

    def test_anonymous_id_alone_is_enough(self) -> None:
        """An anonymous visitor is still identified."""
        identity = resolve_identity({"anonymousId": "anon"}, DEFAULT)
        assert (identity.anonymous_id, identity.user_identities) == ("anon", {})


class TestCustomIdentities:
    def test_order_and_literal_dotted_keys(self) -> None:
        """Identities keep their configured order; keys are used literally."""
        sources = compile_identities(
            {"customer.id": ("$.traits.customer_id", "$.userId"), KEY: ("$.traits.email",)}
        )
        identity = resolve_identity({"userId": "u1", "traits": {"email": "a@b.co"}}, sources)
        assert list(identity.user_identities.items()) == [("customer.id", "u1"), (KEY, "a@b.co")]

    def test_non_email_identity_takes_non_email_user_id(self) -> None:
        """The userId rule only applies to e-mail identities."""
        sources = compile_identities({"extid": ("$.userId",)})
        assert resolve_identity({"userId": "u1"}, sources).user_identities == {"extid": "u1"}

    def test_object_value_is_invalid(self) -> None:
        """An identity must be a string or number."""
        sources = compile_identities({"extid": ("$.traits.ext",)})
        with pytest.raises(TranslationError) as caught:
            resolve_identity({"traits": {"ext": {"a": 1}}}, sources)
        assert caught.value.error_class is ErrorClass.INVALID_IDENTIFIER

    def test_malformed_path_is_a_config_error(self) -> None:
        """A bad identity path is rejected at start-up, naming the identity."""
        with pytest.raises(ConfigError, match=r"inbound\.identities\.extid"):
            compile_identities({"extid": ("traits.ext",)})


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("a@b.co", True),
        ("first.last+tag@sub.example.org", True),
        ("a@b", False),
        ("@b.co", False),
        ("a@@b.co", False),
        ("a@b..co", False),
        ("", False),
        (None, False),
        ("x" * 250 + "@b.co", False),
    ],
)
def test_is_email(value, valid) -> None:
    """A plausible address: one @, a dotted domain, no spaces, ≤ 254 characters."""
    assert is_email(value) is valid
