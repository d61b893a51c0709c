"""Classic options: attribute_mapping, ignore_fields, contacts_error_handling with known attributes."""

from __future__ import annotations

import pytest

from processor.config.settings import AttributeMapping, InboundSettings
from processor.inbound.classic import check_known, compile_classic, default_attributes
from processor.inbound.mapping import parse_path

EMAIL_USED = (parse_path("$.traits.email", where="t"),)


def attributes(message: dict[str, object], used=EMAIL_USED, **settings: object) -> dict[str, object]:
    return default_attributes(message, used, compile_classic(InboundSettings(**settings)))  # type: ignore[arg-type]


def mapping(*pairs: tuple[str, str]) -> tuple[AttributeMapping, ...]:
    return tuple(AttributeMapping(a, b) for a, b in pairs)


TRAITS = {
    "email": "a@b.co",
    "first_name": "Ada",
    "website": "https://ada.example",
    "address": {"state": "CA", "city": "LA"},
    "plan": "pro",
}


class TestAttributeMapping:
    def test_default_is_traits_without_identity_keys(self) -> None:
        """With no options: every trait but the one that fed the e-mail identity."""
        assert attributes({"traits": TRAITS}) == {k: v for k, v in TRAITS.items() if k != "email"}

    def test_seed_example(self) -> None:
        """Seed 000's mapping: renamed in place, nested source removed from its parent, ignore applied."""
        result = attributes(
            {"userId": "u-9", "traits": TRAITS},
            attribute_mapping=mapping(
                ("first_name", "fname"),
                ("user_id", "extid"),
                ("address.state", "state"),
                ("email", "channels.email.address"),
            ),
            ignore_fields=("website",),
        )
        assert list(result.items()) == [
            ("channels.email.address", "a@b.co"),
            ("fname", "Ada"),
            ("address", {"city": "LA"}),
            ("state", "CA"),
            ("plan", "pro"),
            ("extid", "u-9"),
        ]

    def test_parent_emptied_by_nested_mapping_goes(self) -> None:
        """A nested object left empty by the mapping is not sent."""
        result = attributes(
            {"traits": {"address": {"state": "CA"}}}, attribute_mapping=mapping(("address.state", "state"))
        )
        assert result == {"state": "CA"}

    def test_absolute_path_and_one_field_to_two_keys(self) -> None:
        """`$.` paths read the message; one field may feed several keys."""
        result = attributes(
            {"context": {"ip": "1.2.3.4"}, "traits": {"plan": "pro"}},
            attribute_mapping=mapping(("$.context.ip", "ip"), ("plan", "plan_a"), ("plan", "plan_b")),
        )
        assert result == {"plan_a": "pro", "plan_b": "pro", "ip": "1.2.3.4"}

    def test_missing_sources_are_skipped(self) -> None:
        """A mapped field the traits lack gives no attribute."""
        assert attributes({"traits": {}}, attribute_mapping=mapping(("nickname", "nick"))) == {}

    def test_ignore_wins_over_mapping(self) -> None:
        """An ignored field is never sent, even when mapped."""
        result = attributes(
            {"traits": {"website": "w", "plan": "p"}},
            attribute_mapping=mapping(("website", "site")),
            ignore_fields=("website",),
        )
        assert result == {"plan": "p"}

    def test_nested_ignore(self) -> None:
        """Dotted ignore fields remove one leaf."""
        result = attributes(
            {"traits": {"address": {"state": "CA", "zip": "1"}}}, ignore_fields=("address.zip",)
        )
        assert result == {"address": {"state": "CA"}}

    def test_context_traits_when_no_traits(self) -> None:
        """Calls other than identify carry traits in context.traits; the identity key still goes."""
        used = (parse_path("$.context.traits.email", where="t"),)
        message: dict[str, object] = {"context": {"traits": {"email": "a@b.co", "plan": "pro"}}}
        assert attributes(message, used) == {"plan": "pro"}

    def test_traits_not_an_object(self) -> None:
        """Traits that are not an object give no attributes."""
        assert attributes({"traits": ["x"]}) == {}


class TestErrorHandling:
    def options(self, handling: str, known: tuple[str, ...] | None):
        return compile_classic(
            InboundSettings(contacts_error_handling=handling, known_attributes=known)  # type: ignore[arg-type]
        )

    def test_strict_unknown_is_an_error(self) -> None:
        """strict + known_attributes: an unknown attribute is a validation failure."""
        kept, errors = check_known({"plan": 1, "shoe": 2, "hat": 3}, self.options("strict", ("plan",)))
        assert errors == ["unknown attribute(s) 'shoe', 'hat' (not in inbound.known_attributes)"]
        assert kept == {"plan": 1, "shoe": 2, "hat": 3}

    def test_ignore_missing_attributes_drops_unknown(self) -> None:
        """ignoreMissingAttributes drops unknown attributes instead of failing."""
        kept, errors = check_known(
            {"plan": 1, "shoe": 2, "address.city": "x", "channels.email.subscribeStatus": "subscribed"},
            self.options("ignoreMissingAttributes", ("plan", "address")),
        )
        assert (kept, errors) == (
            {"plan": 1, "address.city": "x", "channels.email.subscribeStatus": "subscribed"},
            [],
        )

    @pytest.mark.parametrize("handling", ["strict", "ignoreMissingAttributes"])
    def test_without_known_list_everything_is_kept(self, handling) -> None:
        """No known_attributes list: nothing to check against."""
        assert check_known({"x": 1}, self.options(handling, None)) == ({"x": 1}, [])


class TestThroughTranslator:
    def test_strict_failure_is_an_upsert_contact_validation_error(self, make_translator, error_for) -> None:
        """Through the translator the failure belongs to upsertContact alone."""
        translator = make_translator(known_attributes=("plan",))
        message = {"type": "identify", "userId": "u", "traits": {"plan": "p", "shoe": 9}}
        assert "unknown attribute(s) 'shoe'" in error_for(translator.translate(message), "upsertContact")

    def test_ignore_missing_through_translator(self, make_translator, body_for) -> None:
        """ignoreMissingAttributes sends what is known."""
        translator = make_translator(
            known_attributes=("fname",),
            contacts_error_handling="ignoreMissingAttributes",
            attribute_mapping=mapping(("first_name", "fname")),
        )
        message = {"type": "identify", "userId": "u", "traits": {"first_name": "Ada", "shoe": 9}}
        assert body_for(translator.translate(message), "upsertContact")["attributes"] == {"fname": "Ada"}
