"""Config loading: defaults, types, positions in errors, secrets never from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from processor.config.loader import load_settings, load_settings_text
from processor.config.settings import CORDIAL_DEFAULT_ENDPOINT, Settings
from processor.errors import ConfigError


class TestLoadSettings:
    def test_no_file_gives_spec_defaults(self) -> None:
        """Without a file every setting takes the SPEC's default."""
        settings = load_settings(None, environ={})
        assert settings.cordial.endpoint == CORDIAL_DEFAULT_ENDPOINT
        assert settings.retry.tiers == ("5s", "1m", "10m", "1h")
        assert settings.retry.max_attempts == 8
        assert settings.segment.endpoint == "https://api.segment.io"
        assert settings.cordial.api_key is None

    def test_trailing_slash_stripped_and_segment_id_key_shared(self, tmp_path: Path) -> None:
        """The endpoint loses its trailing slash; both translators get cordial.segment_id_key."""
        config = tmp_path / "c.yaml"
        config.write_text(
            "cordial:\n  endpoint: https://integrations-ingest-svc.use1.cordial.com/\n  segment_id_key: sid\n"
        )
        settings = load_settings(config, environ={})
        assert settings.cordial.endpoint == "https://integrations-ingest-svc.use1.cordial.com"
        assert settings.inbound.segment_id_key == "sid"
        assert settings.outbound.segment_id_key == "sid"

    def test_secret_from_env_and_file(self, tmp_path: Path) -> None:
        """Keys come from the named env var or a file, and never print."""
        key_file = tmp_path / "key"
        key_file.write_text("file-key-123\n")
        config = tmp_path / "c.yaml"
        config.write_text(f"cordial:\n  api_key_file: {key_file}\nsegment:\n  write_key_env: WK\n")
        settings = load_settings(config, environ={"WK": "wk-456"})
        assert settings.cordial.api_key is not None
        assert settings.cordial.api_key.reveal() == "file-key-123"
        assert settings.segment.write_key is not None
        assert settings.segment.write_key.reveal() == "wk-456"
        assert "file-key-123" not in repr(settings)
        assert "wk-456" not in repr(settings)

    def test_secret_in_yaml_is_refused(self) -> None:
        with pytest.raises(ConfigError, match="never read from the config file"):
            load_settings_text("segment:\n  write_key: abc\n")

    @pytest.mark.parametrize(
        ("text", "where", "fragment"),
        [
            pytest.param(
                "cordial:\n  endpont: x\n", "<config>:2:3", "unknown setting 'cordial.endpont'", id="typo"
            ),
            pytest.param(
                "worker:\n  max_in_flight: lots\n", "<config>:2:18", "expected int", id="wrong-type"
            ),
            pytest.param(
                "topics:\n  segment_inbound:\n    name: a\n    value_format: xml\n",
                "<config>:4:19",
                "must be one of",
                id="bad-literal",
            ),
            pytest.param("retry: {tiers: 5s}\n", "<config>:1:16", "expected a list", id="not-a-list"),
            pytest.param("cordial: [1\n", "<config>:2:1", "invalid YAML", id="broken-yaml"),
        ],
    )
    def test_errors_name_line_and_column(self, text: str, where: str, fragment: str) -> None:
        """Every config error says where it is."""
        with pytest.raises(ConfigError) as info:
            load_settings_text(text)
        assert info.value.where == where
        assert fragment in str(info.value)

    def test_empty_file_is_defaults(self) -> None:
        assert load_settings_text("") == Settings()

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="cannot read config file"):
            load_settings(tmp_path / "nope.yaml", environ={})


class TestTriggerPositions:
    def test_malformed_trigger_names_file_position_action_and_trigger_position(self) -> None:
        """A bad trigger is refused at load time with the YAML position, the action, and the line
        and column inside the trigger text."""
        text = "inbound:\n  actions:\n    upsertOrder:\n      trigger: 'event = \"Order Completed\" or'\n"
        with pytest.raises(ConfigError) as info:
            load_settings_text(text)
        assert info.value.where == "<config>:4:16"
        assert "inbound.actions.upsertOrder.trigger" in str(info.value)
        assert "line 1, column" in str(info.value)

    def test_valid_and_null_triggers_load(self) -> None:
        text = (
            "inbound:\n  actions:\n"
            "    upsertOrder: {trigger: 'event = \"Order Completed\"'}\n"
            "    mergeContacts: {trigger: null}\n"
        )
        settings = load_settings_text(text)
        assert settings.inbound.actions["upsertOrder"].trigger == 'event = "Order Completed"'
