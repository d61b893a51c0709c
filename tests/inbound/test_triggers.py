"""Subscription triggers: parsing the SPEC §3.2 subset, errors with line/column, evaluation."""

from __future__ import annotations

import pytest

from processor.errors import ConfigError, TriggerSyntaxError
from processor.inbound.triggers import All, Any, Compare, Exists, matches, parse_trigger


class TestParse:
    def test_tree_shape_and_precedence(self) -> None:
        """`and` binds tighter than `or`; parentheses override."""
        tree = parse_trigger('type = "track" and event = "A" or event != "B"')
        assert tree == Any(
            (
                All((Compare(("type",), "=", "track"), Compare(("event",), "=", "A"))),
                Compare(("event",), "!=", "B"),
            )
        )
        grouped = parse_trigger('type = "track" and (event = "A" or event = "B")')
        assert isinstance(grouped, All)
        assert isinstance(grouped.conditions[1], Any)

    def test_exists_dotted_fields_and_literals(self) -> None:
        """Dotted fields, `exists`, numbers, booleans and null all parse."""
        tree = parse_trigger(
            "properties.plan exists AND properties.total = 10 and traits.vip = true or x = null"
        )
        assert tree == Any(
            (
                All(
                    (
                        Exists(("properties", "plan")),
                        Compare(("properties", "total"), "=", 10),
                        Compare(("traits", "vip"), "=", True),
                    )
                ),
                Compare(("x",), "=", None),
            )
        )

    def test_string_escapes(self) -> None:
        """Backslash escapes in strings are decoded."""
        assert parse_trigger(r'event = "say \"hi\"\u0021"') == Compare(("event",), "=", 'say "hi"!')

    def test_multiline_trigger(self) -> None:
        """Triggers may span lines (YAML block scalars)."""
        assert parse_trigger('type = "track"\n  and\n  event = "A"\n') == All(
            (Compare(("type",), "=", "track"), Compare(("event",), "=", "A"))
        )


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("text", "line", "column", "fragment"),
        [
            pytest.param("", 1, 1, "empty trigger", id="empty"),
            pytest.param('type = "track', 1, 8, "unterminated string", id="unterminated"),
            pytest.param('type == "track"', 1, 7, "expected a quoted value", id="double-equals"),
            pytest.param("type = track", 1, 8, "expected a quoted value", id="bare-word"),
            pytest.param('type = "a" and', 1, 15, "expected a field name", id="dangling-and"),
            pytest.param('(type = "a"', 1, 12, "expected ')'", id="unclosed-paren"),
            pytest.param('type = "a")', 1, 11, "expected 'and', 'or'", id="extra-paren"),
            pytest.param('type = "a" event = "b"', 1, 12, "expected 'and', 'or'", id="missing-operator"),
            pytest.param('type ~ "a"', 1, 6, "unexpected character '~'", id="bad-character"),
            pytest.param(
                'type = "a" and\n  event = "b" or\n  name "c"', 3, 8, "expected '=', '!='", id="line-3"
            ),
            pytest.param(r'event = "\q"', 1, 10, "unknown escape", id="bad-escape"),
            pytest.param("type exists exists", 1, 13, "expected 'and', 'or'", id="double-exists"),
        ],
    )
    def test_error_position(self, text, line, column, fragment) -> None:
        """Every malformed trigger fails with the line and column of the offending token."""
        with pytest.raises(TriggerSyntaxError) as caught:
            parse_trigger(text)
        assert (caught.value.line, caught.value.column) == (line, column)
        assert fragment in str(caught.value)
        assert f"line {line}, column {column}" in str(caught.value)

    def test_where_prefix_names_the_action(self) -> None:
        """A start-up error names the setting (and so the action) it comes from."""
        with pytest.raises(
            ConfigError, match=r"^inbound\.actions\.upsertOrder\.trigger: .* line 1, column 7"
        ):
            parse_trigger('type == "x"', where="inbound.actions.upsertOrder.trigger")

    def test_no_eval(self) -> None:
        """Python code is a syntax error, not something run."""
        with pytest.raises(TriggerSyntaxError):
            parse_trigger("__import__('os').system('true')")


MESSAGE = {
    "type": "track",
    "event": "Order Completed",
    "properties": {"total": 10, "plan": None, "vip": True, "name": "10"},
    "context": {"source": "web"},
}


class TestMatches:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('type = "track"', True),
            ('type = "identify"', False),
            ('type != "identify"', True),
            ('event = "Order Completed" and type = "track"', True),
            ('type = "page" or event = "Order Completed"', True),
            ('type = "track" and (event = "A" or event = "B")', False),
            ("properties.total exists", True),
            ("properties.plan exists", False),
            ("properties.missing exists", False),
            ('properties.missing != "x"', True),
            ('properties.missing = "x"', False),
            ("properties.total = 10", True),
            ("properties.total = 10.0", True),
            ('properties.total = "10"', False),
            ("properties.name = 10", False),
            ("properties.vip = true", True),
            ("properties.vip = 1", False),
            ("properties.plan = null", True),
            ('context.source = "web"', True),
            ('event.deep = "x"', False),
        ],
    )
    def test_evaluation(self, text, expected) -> None:
        """JSON equality, `!=` true when absent, `exists` false for null."""
        assert matches(parse_trigger(text), MESSAGE) is expected
