"""The classic integration file: checks with JSON paths, conversion both ways, loader hook, diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from processor.config.classic import (
    ClassicFileError,
    ClassicIntegration,
    load_integration_file,
    parse_integration,
    parse_integration_text,
)
from processor.config.classic_diff import Change, diff_integration
from processor.config.loader import load_settings
from processor.config.settings import AttributeMapping, InboundSettings
from processor.errors import ConfigError

SEED_000 = {
    "name": "segment",
    "enabled": True,
    "attributeMapping": [
        {"segmentField": "first_name", "cordialKey": "fname"},
        {"segmentField": "user_id", "cordialKey": "extid"},
        {"segmentField": "address.state", "cordialKey": "state"},
        {"segmentField": "email", "cordialKey": "channels.email.address"},
    ],
    "ignoreFields": ["website"],
    "contactsErrorHandling": "ignoreMissingAttributes",
}


def problems_of(data: object) -> tuple[str, ...]:
    with pytest.raises(ClassicFileError) as info:
        parse_integration(data)
    return info.value.problems


class TestParse:
    def test_seed_example(self) -> None:
        """The body from seed 000 is accepted and round-trips byte for byte."""
        integration = parse_integration(SEED_000)
        assert integration.attribute_mapping[2] == AttributeMapping("address.state", "state")
        assert integration.ignore_fields == ("website",)
        assert integration.contacts_error_handling == "ignoreMissingAttributes"
        assert json.dumps(integration.to_body()) == json.dumps(SEED_000)

    def test_minimal_defaults(self) -> None:
        """Only `{}`: enabled, nothing mapped, strict error handling (sent as no key)."""
        integration = parse_integration({})
        assert integration == ClassicIntegration()
        assert integration.to_body() == {
            "name": "segment",
            "enabled": True,
            "attributeMapping": [],
            "ignoreFields": [],
        }

    def test_all_problems_listed_with_paths(self) -> None:
        """Every fault is reported at once, each with its JSON path."""
        data = {
            "name": "segmnt",
            "enabled": "yes",
            "attributeMapping": [
                {"segmentField": "first_name", "cordialKey": "fname"},
                {"segmentField": "", "cordialkey": "x"},
                "email",
                {"segmentField": "a..b", "cordialKey": " state"},
                {"segmentField": "first_name", "cordialKey": "fname"},
                {"segmentField": 3, "cordialKey": None},
            ],
            "ignoreFields": ["website", "website", "first_name", 7],
            "contactsErrorHandling": "ignore",
            "extra": 1,
        }
        assert problems_of(data) == (
            "$.extra: unknown key (expected one of name, enabled, attributeMapping, ignoreFields, "
            "contactsErrorHandling)",
            '$.name: must be "segment", got "segmnt"',
            '$.enabled: expected true or false, got "yes"',
            "$.attributeMapping[1].cordialkey: unknown key (expected segmentField, cordialKey)",
            "$.attributeMapping[1].segmentField: must not be empty",
            "$.attributeMapping[1].cordialKey: missing",
            "$.attributeMapping[2]: expected an object, got a string",
            '$.attributeMapping[3].segmentField: "a..b" has an empty part between dots',
            '$.attributeMapping[3].cordialKey: " state" has blanks at an end',
            "$.attributeMapping[4]: first_name → fname is already mapped at $.attributeMapping[0]",
            "$.attributeMapping[5].segmentField: expected a string, got a number",
            "$.attributeMapping[5].cordialKey: expected a string, got null",
            '$.ignoreFields[1]: "website" is already listed at $.ignoreFields[0]',
            '$.ignoreFields[2]: "first_name" is ignored and mapped at $.attributeMapping[0]; choose one',
            "$.ignoreFields[3]: expected a string, got a number",
            '$.contactsErrorHandling: must be "ignoreMissingAttributes" or left out, got "ignore"',
        )

    @pytest.mark.parametrize(
        ("data", "problem"),
        [
            pytest.param([], "$: expected an object, got a list", id="not-object"),
            pytest.param(
                {"attributeMapping": {}}, "$.attributeMapping: expected a list, got an object", id="map"
            ),
            pytest.param({"ignoreFields": "x"}, "$.ignoreFields: expected a list, got a string", id="ignore"),
            pytest.param({"enabled": None}, "$.enabled: expected true or false, got null", id="enabled-null"),
        ],
    )
    def test_wrong_shapes(self, data: object, problem: str) -> None:
        assert problems_of(data) == (problem,)

    def test_one_field_may_feed_several_keys(self) -> None:
        data = {
            "attributeMapping": [
                {"segmentField": "email", "cordialKey": "channels.email.address"},
                {"segmentField": "email", "cordialKey": "email_copy"},
                {"segmentField": "firstName", "cordialKey": "fname"},
                {"segmentField": "first_name", "cordialKey": "fname"},
            ]
        }
        assert len(parse_integration(data).attribute_mapping) == 4

    def test_not_json_names_line_and_column(self) -> None:
        with pytest.raises(ClassicFileError, match=r"not valid JSON: .* at line 2, column 1"):
            parse_integration_text('{"name": "segment",\n}', where="x.json")

    def test_message_names_the_file_and_counts(self, tmp_path: Path) -> None:
        path = tmp_path / "cordial.json"
        path.write_text('{"enabled": 1, "ignoreFields": [""]}')
        with pytest.raises(ClassicFileError) as info:
            load_integration_file(path)
        text = str(info.value)
        assert text.startswith(f"{path}: invalid Cordial integration file (2 problems):")
        assert "$.enabled: expected true or false, got 1" in text
        assert "$.ignoreFields[0]: must not be empty" in text

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="cannot read Cordial integration file"):
            load_integration_file(tmp_path / "nope.json")


class TestConvert:
    def test_from_inbound_round_trip(self) -> None:
        integration = parse_integration(SEED_000)
        inbound = integration.merge_into(InboundSettings())
        assert ClassicIntegration.from_inbound(inbound) == integration

    def test_merge_yaml_entries_win(self) -> None:
        """File first; a YAML mapping replaces the file's for the same field; ignore lists unite."""
        inbound = InboundSettings(
            attribute_mapping=(AttributeMapping("first_name", "given_name"), AttributeMapping("age", "age")),
            ignore_fields=("internal", "website"),
        )
        merged = parse_integration(SEED_000).merge_into(inbound)
        assert [(m.segment_field, m.cordial_key) for m in merged.attribute_mapping] == [
            ("user_id", "extid"),
            ("address.state", "state"),
            ("email", "channels.email.address"),
            ("first_name", "given_name"),
            ("age", "age"),
        ]
        assert merged.ignore_fields == ("website", "internal")
        assert merged.contacts_error_handling == "ignoreMissingAttributes"

    def test_merge_strict_file_keeps_yaml_choice(self) -> None:
        inbound = InboundSettings(contacts_error_handling="ignoreMissingAttributes")
        assert parse_integration({}).merge_into(inbound).contacts_error_handling == "ignoreMissingAttributes"
        assert parse_integration({}).merge_into(InboundSettings()).contacts_error_handling == "strict"


class TestLoaderHook:
    def test_classic_file_merged_relative_to_config(self, tmp_path: Path) -> None:
        """`inbound.classic_file` is read next to the config and merged into the inbound settings."""
        (tmp_path / "cordial.json").write_text(json.dumps(SEED_000))
        config = tmp_path / "bridge.yaml"
        config.write_text(
            "inbound:\n  classic_file: cordial.json\n  ignore_fields: [internal]\n"
            "  attribute_mapping:\n    - {segment_field: user_id, cordial_key: customer_id}\n"
        )
        inbound = load_settings(config, environ={}).inbound
        assert AttributeMapping("user_id", "customer_id") in inbound.attribute_mapping
        assert AttributeMapping("user_id", "extid") not in inbound.attribute_mapping
        assert AttributeMapping("address.state", "state") in inbound.attribute_mapping
        assert inbound.ignore_fields == ("website", "internal")
        assert inbound.contacts_error_handling == "ignoreMissingAttributes"

    def test_bad_classic_file_is_a_config_error(self, tmp_path: Path) -> None:
        (tmp_path / "cordial.json").write_text('{"ignoreFields": [1]}')
        config = tmp_path / "bridge.yaml"
        config.write_text("inbound:\n  classic_file: cordial.json\n")
        with pytest.raises(
            ConfigError, match=r"(?s)cordial\.json: .*\$\.ignoreFields\[0\]: expected a string"
        ):
            load_settings(config, environ={})

    def test_no_classic_file_changes_nothing(self, tmp_path: Path) -> None:
        config = tmp_path / "bridge.yaml"
        config.write_text("inbound:\n  ignore_fields: [a]\n")
        assert load_settings(config, environ={}).inbound.ignore_fields == ("a",)


class TestDiff:
    def test_nothing_live_is_a_create(self) -> None:
        diff = diff_integration(parse_integration(SEED_000), None)
        assert diff.method == "POST"
        assert not diff.empty
        text = diff.render()
        assert "it will be created (POST)" in text
        assert "+ address.state → state" in text
        assert "+ website" in text
        assert 'contactsErrorHandling: (not set) → "ignoreMissingAttributes"' in text

    def test_same_content_in_other_order_is_no_difference(self) -> None:
        live = dict(SEED_000, id=12, attributeMapping=list(reversed(SEED_000["attributeMapping"])))  # type: ignore[call-overload]
        diff = diff_integration(parse_integration(SEED_000), live)
        assert diff.empty
        assert diff.method == "PUT"
        assert diff.render().startswith("No difference")

    def test_added_removed_changed(self) -> None:
        live = {
            "name": "segment",
            "enabled": False,
            "attributeMapping": [
                {"segmentField": "first_name", "cordialKey": "first"},
                {"segmentField": "phone", "cordialKey": "channels.sms.address"},
                {"segmentField": "email", "cordialKey": "channels.email.address"},
                "garbage",
            ],
            "ignoreFields": ["website", "legacy"],
        }
        diff = diff_integration(parse_integration(SEED_000), live)
        assert diff.changes == (
            Change("enabled", "changed", old=False, new=True),
            Change("attributeMapping", "changed", "first_name", "first", "fname"),
            Change("attributeMapping", "added", "user_id", new="extid"),
            Change("attributeMapping", "added", "address.state", new="state"),
            Change("attributeMapping", "removed", "phone", old="channels.sms.address"),
            Change("ignoreFields", "removed", "legacy"),
            Change("contactsErrorHandling", "changed", old=None, new="ignoreMissingAttributes"),
        )
        assert diff.render().splitlines() == [
            "Changes to the live Segment integration (PUT):",
            "  enabled: false → true",
            "  attributeMapping:",
            "    ~ first_name → fname (was first)",
            "    + user_id → extid",
            "    + address.state → state",
            "    - phone → channels.sms.address",
            "  ignoreFields:",
            "    - legacy",
            '  contactsErrorHandling: (not set) → "ignoreMissingAttributes"',
        ]
