"""Payload rules: top-level cleaning, AJV-style coercion, JavaScript number strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.inbound.mapping import MISSING
from processor.inbound.payload import (
    CoercionError,
    FieldSpec,
    Kind,
    clean_top_level,
    coerce,
    coerce_payload,
    js_number,
)


class TestClean:
    def test_top_level_only(self) -> None:
        """Missing, null and "" leave the top level; nested empties stay; order is kept."""
        values: dict[str, object] = {
            "a": MISSING,
            "b": None,
            "c": "",
            "d": 0,
            "e": False,
            "f": {"x": None, "y": ""},
            "g": [],
            "h": {},
        }
        assert clean_top_level(values) == {"d": 0, "e": False, "f": {"x": None, "y": ""}, "g": [], "h": {}}

    def test_discount_application_always_kept(self) -> None:
        """discountApplication survives even as null."""
        assert clean_top_level({"discountApplication": None}) == {"discountApplication": None}


class TestCoerce:
    @pytest.mark.parametrize(
        ("value", "kind", "expected"),
        [
            ("2", Kind.NUMBER, 2),
            ("2.5", Kind.NUMBER, 2.5),
            ("-1e3", Kind.NUMBER, -1000),
            (".5", Kind.NUMBER, 0.5),
            ("0x1F", Kind.NUMBER, 31),
            (True, Kind.INTEGER, 1),
            (False, Kind.NUMBER, 0),
            ("7", Kind.INTEGER, 7),
            ("7.0", Kind.INTEGER, 7),
            (7.0, Kind.INTEGER, 7),
            ([3], Kind.INTEGER, 3),
            (123, Kind.STRING, "123"),
            (1.0, Kind.STRING, "1"),
            (0.1, Kind.STRING, "0.1"),
            (1e21, Kind.STRING, "1e+21"),
            (1.5e-7, Kind.STRING, "1.5e-7"),
            (True, Kind.STRING, "true"),
            (["X"], Kind.STRING, "X"),
            (None, Kind.STRING, ""),
            (None, Kind.NUMBER, 0),
            ({"a": 1}, Kind.OBJECT, {"a": 1}),
            ([{"a": 1}], Kind.OBJECT, {"a": 1}),
            ({"any": [1, 2]}, Kind.ANY, {"any": [1, 2]}),
        ],
    )
    def test_coercions(self, value, kind, expected) -> None:
        """AJV coerceTypes "array" conversions, JSON type included."""
        result = coerce(value, kind)
        assert result == expected
        assert type(result) is type(expected)

    @pytest.mark.parametrize(
        ("value", "kind"),
        [
            (2.5, Kind.INTEGER),
            ("2.5", Kind.INTEGER),
            ("ten", Kind.NUMBER),
            ("", Kind.NUMBER),
            ("   ", Kind.NUMBER),
            ("1_000", Kind.NUMBER),
            ("1e400", Kind.NUMBER),
            ("Infinity", Kind.NUMBER),
            ("NaN", Kind.NUMBER),
            ({"a": 1}, Kind.STRING),
            ([1, 2], Kind.STRING),
            ([], Kind.NUMBER),
            ("x", Kind.OBJECT),
            ([[1]], Kind.NUMBER),
        ],
    )
    def test_uncoercible(self, value, kind) -> None:
        """Values AJV would reject raise CoercionError."""
        with pytest.raises(CoercionError):
            coerce(value, kind)

    def test_payload_collects_every_failure(self) -> None:
        """Required and type failures are all collected, in schema order."""
        schema = (
            FieldSpec("a", Kind.STRING, required=True),
            FieldSpec("b", Kind.INTEGER),
            FieldSpec("c", Kind.NUMBER, required=True),
        )
        values, errors = coerce_payload({"b": "x"}, schema)
        assert errors == [
            "missing required field 'a'",
            "'b' must be an integer, got 'x'",
            "missing required field 'c'",
        ]
        assert values == {"b": "x"}

    def test_unknown_keys_pass_untouched(self) -> None:
        """Keys outside the schema are left alone."""
        values, errors = coerce_payload({"free": [None]}, ())
        assert (values, errors) == ({"free": [None]}, [])


class TestJsNumber:
    @pytest.mark.parametrize(
        ("number", "text"),
        [
            (0, "0"),
            (-0.0, "0"),
            (1e16, "10000000000000000"),
            (1.5e17, "150000000000000000"),
            (123.456, "123.456"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5e-8, "-2.5e-8"),
            (2e21, "2e+21"),
            (10**30, "1000000000000000000000000000000"),
        ],
    )
    def test_matches_javascript(self, number, text) -> None:
        """String(n) as JavaScript writes it."""
        assert js_number(number) == text

    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_round_trips(self, number: float) -> None:
        """The string always parses back to the same number."""
        assert float(js_number(number)) == number
