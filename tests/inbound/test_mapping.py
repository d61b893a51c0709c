"""Field-mapping expressions: paths, fall-backs, literals, objects, @arrayPath; config errors."""

from __future__ import annotations

import pytest

from processor.errors import ConfigError
from processor.inbound.mapping import MISSING, compile_expression, evaluate

MESSAGE = {
    "userId": "u",
    "traits": {"email": "a@b.co", "blank": "", "none": None, "list": [{"x": 1}, {"x": 2}]},
    "properties": {"products": [{"sku": "a"}, None], "one": {"sku": "b"}},
}


def run(raw: object, root: object = MESSAGE) -> object:
    return evaluate(compile_expression(raw, where="test"), root)


class TestEvaluate:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("$.traits.email", "a@b.co", id="path"),
            pytest.param("$.traits.missing", MISSING, id="missing-path"),
            pytest.param("$.traits.none", None, id="null-path"),
            pytest.param("$.traits.email.deeper", MISSING, id="through-a-scalar"),
            pytest.param("$.traits.list[1].x", 2, id="index"),
            pytest.param("$.traits.list[5].x", MISSING, id="index-out-of-range"),
            pytest.param({"@path": "$.userId"}, "u", id="at-path"),
            pytest.param(
                ["$.traits.none", "$.traits.blank", "$.traits.missing", "$.userId"], "u", id="fallbacks"
            ),
            pytest.param(["$.traits.none", "default"], "default", id="fallback-literal"),
            pytest.param(["$.traits.none", "$.traits.blank"], MISSING, id="fallbacks-exhausted"),
            pytest.param({"@literal": "$.not.a.path"}, "$.not.a.path", id="literal-dollar"),
            pytest.param({"@literal": {"a": 1}}, {"a": 1}, id="literal-object"),
            pytest.param("plain", "plain", id="string-literal"),
            pytest.param(42, 42, id="number-literal"),
            pytest.param(None, None, id="null-literal"),
            pytest.param(
                {"e": "$.traits.email", "gone": "$.nope", "n": "$.traits.none"},
                {"e": "a@b.co", "n": None},
                id="object-drops-missing-keeps-null",
            ),
        ],
    )
    def test_expression(self, raw, expected) -> None:
        """Each expression form evaluates as the module docstring says."""
        assert run(raw) == expected

    def test_whole_message(self) -> None:
        """`$` is the message itself."""
        assert run("$") is MESSAGE

    def test_array_path(self) -> None:
        """@arrayPath maps each element; a null element maps every path to null."""
        raw = {"@arrayPath": ["$.properties.products", {"sku": "$.sku", "extra": "$.nope"}]}
        assert run(raw) == [{"sku": "a"}, {"sku": None, "extra": None}]

    def test_array_path_single_object(self) -> None:
        """A single object counts as a one-element list."""
        assert run({"@arrayPath": ["$.properties.one", {"sku": "$.sku"}]}) == [{"sku": "b"}]

    def test_array_path_missing_source(self) -> None:
        """No list → missing (so a required items field fails)."""
        assert run({"@arrayPath": ["$.properties.none", {"sku": "$.sku"}]}) is MISSING

    def test_object_built_in_written_order(self) -> None:
        """Object keys keep the order they were written in."""
        built = run({"z": 1, "a": 2, "m": 3})
        assert isinstance(built, dict)
        assert list(built) == ["z", "a", "m"]


class TestCompileErrors:
    @pytest.mark.parametrize(
        ("raw", "fragment"),
        [
            pytest.param("$..x", "malformed path", id="double-dot"),
            pytest.param("$.a[x]", "malformed path", id="bad-index"),
            pytest.param({"@path": 3}, "@path takes a string", id="path-not-string"),
            pytest.param({"@path": "traits.x"}, "starts with '$'", id="path-without-dollar"),
            pytest.param({"@literal": 1, "x": 2}, "must be the only key", id="directive-with-others"),
            pytest.param({"@template": "x"}, "unknown directive", id="unknown-directive"),
            pytest.param([], "empty list", id="empty-fallbacks"),
            pytest.param({"@arrayPath": ["$.a"]}, "@arrayPath takes", id="array-path-short"),
            pytest.param({"@arrayPath": ["$.a", "$.b"]}, "must be an object", id="array-path-not-object"),
        ],
    )
    def test_malformed(self, raw, fragment) -> None:
        """A malformed expression is a ConfigError naming where it is."""
        with pytest.raises(ConfigError, match=r"^test") as caught:
            compile_expression(raw, where="test")
        assert fragment in str(caught.value)
