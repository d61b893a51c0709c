"""`cordial-bridge translate --direction inbound`: exact output lines, exit codes, config errors."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from processor.cli import cli

GOLDEN = Path(__file__).parents[1] / "inbound" / "actions" / "golden"


def run(stdin: bytes, *args: str):
    return CliRunner().invoke(cli, ["translate", "--direction", "inbound", *args], input=stdin)


class TestOutput:
    def test_exact_lines(self) -> None:
        """One JSON line per input line, in the documented form, byte for byte."""
        stdin = b"\n".join(
            [
                b'{"type":"identify","userId":"u","traits":{"email":"a@b.co","plan":"pro"}}',
                b'{"type":"track","userId":"a@b.co","event":"Product Removed",'
                b'"properties":{"product_id":"p"}}',
                b"not json",
                b"[1]",
                b'{"type":"identify"}',
                b'{"type":"identify","traits":{"email":"nope"}}',
                b'{"type":"track","context":{"source":"cordial"}}',
                b'{"type":"screen","userId":"u"}',
                b'{"type":"wink","userId":"u"}',
            ]
        )
        result = run(stdin + b"\n")
        assert result.exit_code == 0, result.output
        expected = [
            '{"line":1,"results":[{"action":"upsertContact","request":{"method":"POST",'
            '"path":"/api/segment/upsertContact","body":{"segmentIdKey":"segment_id","segmentId":"u",'
            '"userIdentities":{"channels.email.address":"a@b.co"},"attributes":{"plan":"pro"}}}}]}',
            '{"line":2,"results":[{"action":"createContactactivity","request":{"method":"POST",'
            '"path":"/api/segment/createContactactivity","body":{"segmentIdKey":"segment_id",'
            '"segmentId":"a@b.co","userIdentities":{"channels.email.address":"a@b.co"},'
            '"action":"Product Removed","properties":{"product_id":"p"}}}},'
            '{"action":"removeProductFromCart","error":{"class":"validation",'
            '"message":"missing required field \'qty\'"}}]}',
            '{"line":3,"error":{"class":"invalid_json",'
            '"message":"not JSON: invalid literal, expected \'null\': '
            'line 1 column 1 (char 0)"}}',
            '{"line":4,"error":{"class":"invalid_message",'
            '"message":"a Segment message is a JSON object, got a list"}}',
            '{"line":5,"error":{"class":"missing_identifier",'
            '"message":"message has no userId, no anonymousId and '
            'no identity (tried $.traits.email, $.context.traits.email, $.properties.email, $.userId)"}}',
            '{"line":6,"error":{"class":"invalid_identifier",'
            '"message":"channels.email.address from $.traits.email '
            "is not an e-mail address: 'nope'\"}}",
            '{"line":7,"results":[],"skipped":"blocked_recursion"}',
            '{"line":8,"results":[],"skipped":"no_matching_action"}',
            '{"line":9,"error":{"class":"unknown_type","message":"unknown message type \'wink\' '
            '(known: alias, group, identify, page, screen, track)"}}',
        ]
        assert result.stdout.splitlines() == expected

    def test_golden_bodies_through_the_cli(self) -> None:
        """The dry run prints exactly the golden body of the action it sends."""
        event = (GOLDEN / "upsert_order" / "all.event.json").read_bytes().strip()
        body = (GOLDEN / "upsert_order" / "all.body.json").read_bytes().strip()
        result = run(event + b"\n")
        assert result.exit_code == 0
        assert (
            b'{"action":"upsertOrder","request":{"method":"POST","path":"/api/segment/upsertOrder","body":'
            + body
            + b"}}"
            in result.stdout_bytes
        )

    def test_oversized_line(self, tmp_path: Path) -> None:
        """A line over inbound.max_value_bytes is a typed error, not a crash."""
        config = tmp_path / "c.yaml"
        config.write_text("inbound:\n  max_value_bytes: 64\n")
        line = orjson.dumps({"type": "identify", "userId": "u", "traits": {"x": "y" * 100}})
        result = run(line + b"\n", "--config", str(config))
        assert result.exit_code == 0
        assert orjson.loads(result.stdout)["error"]["class"] == "message_too_large"

    def test_config_changes_the_output(self, tmp_path: Path) -> None:
        """Triggers and field mappings come from the config file."""
        config = tmp_path / "c.yaml"
        config.write_text(
            "cordial:\n  segment_id_key: sid\n"
            "inbound:\n  actions:\n    upsertContact:\n      trigger: 'type = \"track\"'\n"
            "      fields:\n        attributes:\n          last_event: $.event\n"
            "    createContactactivity:\n      enabled: false\n"
        )
        result = run(b'{"type":"track","userId":"u","event":"E"}\n', "--config", str(config))
        assert result.exit_code == 0
        assert result.stdout == (
            '{"line":1,"results":[{"action":"upsertContact","request":{"method":"POST",'
            '"path":"/api/segment/upsertContact","body":{"segmentIdKey":"sid","segmentId":"u",'
            '"userIdentities":{},"attributes":{"last_event":"E"}}}}]}\n'
        )


class TestConfigErrors:
    def test_bad_config_exits_2_without_traceback(self, tmp_path: Path) -> None:
        """An invalid config file is a clear message and exit code 2."""
        config = tmp_path / "c.yaml"
        config.write_text("inbound:\n  contacts_error_handling: lenient\n")
        result = run(b"", "--config", str(config))
        assert result.exit_code == 2
        assert "config error" in result.stderr
        assert "contacts_error_handling" in result.stderr
        assert "Traceback" not in result.output
        assert result.stdout == ""

    def test_malformed_trigger_exits_2_naming_action_line_and_column(self, tmp_path: Path) -> None:
        """A malformed trigger is rejected at start-up with action, line and column."""
        config = tmp_path / "c.yaml"
        config.write_text(
            "inbound:\n  actions:\n    addProductToCart:\n"
            '      trigger: |\n        type = "track"\n        and event = Product\n'
        )
        result = run(b'{"type":"identify","userId":"u"}\n', "--config", str(config))
        assert result.exit_code == 2
        assert "inbound.actions.addProductToCart.trigger" in result.stderr
        assert "line 2, column 13" in result.stderr
        assert "Traceback" not in result.output
        assert result.stdout == ""

    def test_unknown_action_exits_2(self, tmp_path: Path) -> None:
        """A misspelt action name is a config error too."""
        config = tmp_path / "c.yaml"
        config.write_text("inbound:\n  actions:\n    upsertContacts:\n      enabled: true\n")
        result = run(b"", "--config", str(config))
        assert result.exit_code == 2
        assert "unknown action 'upsertContacts'" in result.stderr

    def test_missing_config_file_exits_2(self, tmp_path: Path) -> None:
        """A config path that does not exist is exit code 2, not a traceback."""
        result = run(b"", "--config", str(tmp_path / "absent.yaml"))
        assert result.exit_code == 2
        assert "Traceback" not in result.output
