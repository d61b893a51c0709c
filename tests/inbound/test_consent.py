"""Consent policy (SPEC §3.3): each mode by region by opt-in status, country detection, subscription."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from processor.cli import cli
from processor.config.loader import load_settings_text
from processor.config.settings import ConsentPolicy, ConsentSettings
from processor.inbound.consent import (
    SUBSCRIBE_STATUS_KEY,
    ConsentDecision,
    decide,
    opt_in_status,
    region_of,
)

ABSENT = "absent"

# What each mode lets through, by opt-in status (seed 004's three rules).
MODE_TABLE: dict[tuple[str, object], bool] = {
    ("opted_in_only", True): True,
    ("opted_in_only", False): False,
    ("opted_in_only", ABSENT): False,
    ("opted_in_or_null", True): True,
    ("opted_in_or_null", False): False,
    ("opted_in_or_null", ABSENT): True,
    ("all", True): True,
    ("all", False): True,
    ("all", ABSENT): True,
}

# Whether a top-level policy with `region` governs a contact in `country`.
COVERAGE: dict[tuple[str, str], bool] = {
    ("eu", "DE"): True,
    ("eu", "US"): False,
    ("non_eu", "DE"): False,
    ("non_eu", "US"): True,
    ("both", "DE"): True,
    ("both", "US"): True,
}


def identify(opt_in: object = ABSENT, country: object = ABSENT, **traits: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.com", **traits}}
    if opt_in != ABSENT:
        message["traits"]["email_opt_in"] = opt_in
    if country != ABSENT:
        message["context"] = {"location": {"country": country}}
    return message


def consent(**kwargs: Any) -> ConsentSettings:
    return ConsentSettings(enabled=True, **kwargs)


class TestModesByRegion:
    @pytest.mark.parametrize(
        ("mode", "status", "region", "country"),
        [
            pytest.param(mode, status, region, country, id=f"{mode}-{status}-{region}-{country}")
            for (mode, status), (region, country) in itertools.product(MODE_TABLE, COVERAGE)
        ],
    )
    def test_mode_region_status(self, mode: str, status: object, region: str, country: str) -> None:
        """A governed contact is let through per its mode; a contact outside `region` passes untouched."""
        decision = decide(identify(status, country), consent(mode=mode, region=region))
        governed = COVERAGE[(region, country)]
        assert decision.allowed is (MODE_TABLE[(mode, status)] if governed else True)
        if not governed:
            assert decision == ConsentDecision(allowed=True)

    @pytest.mark.parametrize(
        ("country", "status", "allowed"),
        [
            ("FR", True, True),
            ("FR", ABSENT, False),
            ("FR", False, False),
            ("CA", True, True),
            ("CA", ABSENT, True),
            ("CA", False, False),
        ],
    )
    def test_separate_policies_per_region(self, country: str, status: object, allowed: bool) -> None:
        """`eu:` and `non_eu:` blocks give each region its own rule."""
        settings = consent(
            eu=ConsentPolicy(mode="opted_in_only"), non_eu=ConsentPolicy(mode="opted_in_or_null")
        )
        assert decide(identify(status, country), settings).allowed is allowed

    def test_region_block_overrides_top_level(self) -> None:
        """The `eu:` block wins over the top-level policy for EU contacts; others keep the top level."""
        settings = consent(mode="opted_in_only", eu=ConsentPolicy(mode="all"))
        assert decide(identify(ABSENT, "IT"), settings).allowed
        assert not decide(identify(ABSENT, "US"), settings).allowed

    def test_disabled_lets_everything_through(self) -> None:
        settings = ConsentSettings(enabled=False, mode="opted_in_only")
        assert decide(identify(False, "DE"), settings) == ConsentDecision(allowed=True)


class TestCountryDetection:
    @pytest.mark.parametrize(
        "country",
        ["DE", "de", " De ", "DEU", "276", "Germany", "GERMANY", "germany", "EL", "Greece", "Czech Republic",
         "Czechia", "the Netherlands", "Netherlands", "Réunion", "AX"],
    )  # fmt: skip
    def test_eu(self, country: str) -> None:
        assert region_of(identify(country=country), consent()) == "eu"

    @pytest.mark.parametrize(
        "country",
        ["US", "us", "USA", "United States", "united states of america", "GB", "UK", "United Kingdom",
         "Norway", "CH", "Brazil", "Japan"],
    )  # fmt: skip
    def test_non_eu(self, country: str) -> None:
        assert region_of(identify(country=country), consent()) == "non_eu"

    @pytest.mark.parametrize("country", [ABSENT, None, "", "Atlantis", "XX", 276, ["DE"], {"code": "DE"}])
    def test_unknown(self, country: object) -> None:
        assert region_of(identify(country=country), consent()) is None

    def test_paths_in_order_first_recognised_wins(self) -> None:
        """An unrecognised value in the first path does not hide a good one in the next."""
        message = identify(country="somewhere", address={"country": "Spain"})
        assert region_of(message, consent()) == "eu"
        message = identify(country="US", address={"country": "Spain"})
        assert region_of(message, consent()) == "non_eu"

    def test_configured_path(self) -> None:
        message = identify(geo={"cc": "pt"})
        assert region_of(message, consent(country_paths=("$.traits.geo.cc",))) == "eu"
        assert region_of(message, consent()) is None

    def test_extra_eu_countries(self) -> None:
        """EEA or UK contacts can be governed by the EU policy."""
        settings = consent(extra_eu_countries=("Norway", "gb"))
        assert region_of(identify(country="NO"), settings) == "eu"
        assert region_of(identify(country="United Kingdom"), settings) == "eu"
        assert region_of(identify(country="US"), settings) == "non_eu"


class TestUnknownCountry:
    EU_STRICT = {"eu": ConsentPolicy(mode="opted_in_only"), "non_eu": ConsentPolicy(mode="all")}

    def test_default_takes_the_stricter_policy(self) -> None:
        """With no country, the EU's opted_in_only beats non-EU's all."""
        assert not decide(identify(ABSENT), consent(**self.EU_STRICT)).allowed
        assert decide(identify(True), consent(**self.EU_STRICT)).allowed

    def test_stricter_even_when_it_is_the_non_eu_one(self) -> None:
        settings = consent(eu=ConsentPolicy(mode="all"), non_eu=ConsentPolicy(mode="opted_in_or_null"))
        assert not decide(identify(False), settings).allowed

    def test_tie_prefers_no_auto_subscribe(self) -> None:
        settings = consent(
            eu=ConsentPolicy(mode="all", auto_subscribe=True), non_eu=ConsentPolicy(mode="all")
        )
        assert decide(identify(True), settings).subscribe is False

    def test_only_eu_governed_means_unknown_is_eu(self) -> None:
        """`region: eu` alone: an unplaced contact gets the EU rule, not a free pass."""
        assert not decide(identify(ABSENT), consent(region="eu", mode="opted_in_only")).allowed

    @pytest.mark.parametrize(("choice", "allowed"), [("eu", False), ("non_eu", True)])
    def test_explicit_choice(self, choice: str, allowed: bool) -> None:
        settings = consent(unknown_country=choice, **self.EU_STRICT)
        assert decide(identify(ABSENT), settings).allowed is allowed

    def test_unknown_mapped_to_ungoverned_region_passes(self) -> None:
        settings = consent(region="eu", mode="opted_in_only", unknown_country="non_eu")
        assert decide(identify(False), settings) == ConsentDecision(allowed=True)


class TestOptInValues:
    @pytest.mark.parametrize(
        ("value", "status"),
        [
            (True, True), (False, False), (1, True), (0, False), (1.0, True), (2, False),
            ("true", True), ("TRUE", True), (" yes ", True), ("Y", True), ("1", True), ("on", True),
            ("opted_in", True), ("subscribed", True),
            ("false", False), ("no", False), ("0", False), ("off", False), ("maybe", False),
            ({"v": True}, False), ([True], False),
            (None, None), ("", None), ("   ", None), (ABSENT, None),
        ],
    )  # fmt: skip
    def test_status(self, value: object, status: object) -> None:
        assert opt_in_status(identify(value), "$.traits.email_opt_in") is status

    def test_track_reads_context_traits(self) -> None:
        """A non-consenting contact's track events are held back too (context.traits)."""
        settings = consent(mode="opted_in_only")
        held = {"type": "track", "event": "Viewed", "context": {"traits": {"email_opt_in": False}}}
        sent = {"type": "track", "event": "Viewed", "context": {"traits": {"email_opt_in": "yes"}}}
        assert not decide(held, settings).allowed
        assert decide(sent, settings).allowed

    def test_group_traits_are_not_user_traits(self) -> None:
        """A group's own `traits` describe the group; the user's status is in context.traits."""
        settings = consent(mode="opted_in_only")
        message = {"type": "group", "groupId": "g", "traits": {"email_opt_in": True}}
        assert not decide(message, settings).allowed
        message["context"] = {"traits": {"email_opt_in": True}}
        assert decide(message, settings).allowed

    def test_identify_prefers_traits_then_context_traits(self) -> None:
        message = {
            "type": "identify",
            "traits": {"email_opt_in": False},
            "context": {"traits": {"email_opt_in": True}},
        }
        assert opt_in_status(message, "$.traits.email_opt_in") is False
        message = {"type": "identify", "traits": {}, "context": {"traits": {"email_opt_in": True}}}
        assert opt_in_status(message, "$.traits.email_opt_in") is True

    def test_configured_opt_in_path(self) -> None:
        message = {"type": "track", "properties": {"consent": {"email": "yes"}}}
        assert opt_in_status(message, "$.properties.consent.email") is True

    def test_message_types_limits_scope(self) -> None:
        settings = consent(mode="opted_in_only", message_types=("identify",))
        assert decide({"type": "track", "event": "x"}, settings).allowed
        assert not decide(identify(ABSENT), settings).allowed


class TestAttributesAndSubscription:
    @pytest.mark.parametrize(
        ("status", "attributes"),
        [(True, {"email_opt_in": True}), ("no", {"email_opt_in": False}), (ABSENT, {})],
    )
    def test_all_writes_status(self, status: object, attributes: dict[str, object]) -> None:
        """Mode `all` sends the status as an attribute; an absent one is not written (no erase)."""
        assert decide(identify(status), consent(mode="all")).attributes == attributes

    def test_all_with_custom_or_no_attribute(self) -> None:
        assert decide(identify(True), consent(opt_in_attribute="gdpr_ok")).attributes == {"gdpr_ok": True}
        assert decide(identify(True), consent(opt_in_attribute=None)).attributes == {}

    @pytest.mark.parametrize("mode", ["opted_in_only", "opted_in_or_null"])
    def test_other_modes_write_nothing(self, mode: str) -> None:
        assert decide(identify(True), consent(mode=mode)).attributes == {}

    @pytest.mark.parametrize(
        ("mode", "status", "subscribe"),
        [
            ("opted_in_only", True, True),
            ("opted_in_or_null", True, True),
            ("opted_in_or_null", ABSENT, True),
            ("all", True, True),
            ("all", ABSENT, False),
            ("all", False, False),
        ],
    )
    def test_auto_subscribe(self, mode: str, status: object, subscribe: bool) -> None:
        """Only opted-in contacts (or absent under opted_in_or_null) are subscribed."""
        decision = decide(identify(status), consent(mode=mode, auto_subscribe=True))
        assert decision.allowed
        assert decision.subscribe is subscribe

    def test_no_auto_subscribe_by_default(self) -> None:
        assert decide(identify(True), consent(mode="opted_in_only")).subscribe is False

    def test_subscribe_key_is_cordials(self) -> None:
        assert SUBSCRIBE_STATUS_KEY == "channels.email.subscribeStatus"


class TestFromYaml:
    def test_per_region_config_loads(self) -> None:
        text = (
            "inbound:\n  consent:\n    enabled: true\n    opt_in_path: $.traits.newsletter\n"
            "    eu: {mode: opted_in_only}\n    non_eu: {mode: opted_in_or_null, auto_subscribe: true}\n"
        )
        settings = load_settings_text(text).inbound.consent
        assert settings.eu == ConsentPolicy(mode="opted_in_only", auto_subscribe=False)
        assert settings.non_eu == ConsentPolicy(mode="opted_in_or_null", auto_subscribe=True)
        message = {"type": "identify", "traits": {"newsletter": None, "country": "Canada"}}
        assert decide(message, settings) == ConsentDecision(allowed=True, subscribe=True)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
values = scalars | st.lists(scalars, max_size=2) | st.dictionaries(st.text(max_size=4), scalars, max_size=2)


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])  # the machine is shared
@given(
    kind=st.sampled_from(["identify", "track", "group", "page", None, 3]),
    traits=values | st.fixed_dictionaries({"email_opt_in": values, "country": values}),
    context=values | st.fixed_dictionaries({"location": values | st.fixed_dictionaries({"country": values})}),
    mode=st.sampled_from(["opted_in_only", "opted_in_or_null", "all"]),
)
def test_never_raises(kind: object, traits: object, context: object, mode: str) -> None:
    """Any JSON-shaped message, however odd its nesting, gets a decision."""
    message = {"type": kind, "traits": traits, "context": context}
    policy = consent(mode=mode, country_paths=("$.context.location.country", "$.traits.country"))
    assert isinstance(decide(message, policy), ConsentDecision)


class TestTranslateOutput:
    """End to end through `cordial-bridge translate`: held back = skipped `consent`, not an error."""

    def test_skipped_consent_and_subscribed_upsert(self, tmp_path: Path) -> None:
        config = tmp_path / "bridge.yaml"
        config.write_text(
            "inbound:\n  consent:\n    enabled: true\n    eu: {mode: opted_in_only}\n"
            "    non_eu: {mode: all, auto_subscribe: true}\n"
        )
        lines = [
            {"type": "identify", "userId": "a@example.com", "traits": {"email_opt_in": False},
             "context": {"location": {"country": "Germany"}}},
            {"type": "track", "userId": "a@example.com", "event": "Viewed",
             "context": {"traits": {"email_opt_in": "no"}, "location": {"country": "de"}}},
            {"type": "identify", "userId": "b@example.com",
             "traits": {"email_opt_in": "yes", "country": "United States"}},
        ]  # fmt: skip
        stdin = "".join(json.dumps(line) + "\n" for line in lines)
        result = CliRunner().invoke(
            cli, ["translate", "--direction", "inbound", "--config", str(config)], input=stdin
        )
        assert result.exit_code == 0, result.output
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert out[0] == {"line": 1, "results": [], "skipped": "consent"}
        assert out[1] == {"line": 2, "results": [], "skipped": "consent"}
        (upsert,) = out[2]["results"]
        attributes = upsert["request"]["body"]["attributes"]
        assert attributes["email_opt_in"] is True
        assert attributes[SUBSCRIBE_STATUS_KEY] == "subscribed"
