"""addProductToCart: golden bodies, coercions, validation failures reported together."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import add_product_to_cart

ACTION = add_product_to_cart.ACTION


def product_added(**properties: object) -> dict[str, object]:
    base: dict[str, object] = {"product_id": "p", "sku": "s", "quantity": 1, "category": "c", "name": "n"}
    base.update(properties)
    return {"type": "track", "userId": "u", "event": "Product Added", "properties": base}


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("add_product_to_cart", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestCoercion:
    @pytest.mark.parametrize(
        ("field", "value", "key", "expected"),
        [
            pytest.param("quantity", "2", "qty", 2, id="qty-string"),
            pytest.param("quantity", True, "qty", 1, id="qty-true"),
            pytest.param("quantity", 3.0, "qty", 3, id="qty-integral-float"),
            pytest.param("quantity", ["4"], "qty", 4, id="qty-one-element-array"),
            pytest.param("price", "9.5", "itemPrice", 9.5, id="price-string"),
            pytest.param("price", " 10 ", "itemPrice", 10, id="price-padded-string"),
            pytest.param("price", False, "itemPrice", 0, id="price-false"),
            pytest.param("product_id", 123, "productID", "123", id="id-number"),
            pytest.param("product_id", 1.5, "productID", "1.5", id="id-float"),
            pytest.param("product_id", ["X"], "productID", "X", id="id-one-element-array"),
            pytest.param("sku", True, "sku", "true", id="sku-boolean"),
        ],
    )
    def test_values_are_coerced_to_the_field_type(
        self, translator, body_for, field, value, key, expected
    ) -> None:
        """AJV coerceTypes "array" rules, value and JSON type both."""
        body = body_for(translator.translate(product_added(**{field: value})), ACTION)
        assert body[key] == expected
        assert type(body[key]) is type(expected)


class TestValidation:
    @pytest.mark.parametrize(
        ("properties", "message"),
        [
            pytest.param({"quantity": 2.5}, "'qty' must be an integer, got 2.5", id="fractional-qty"),
            pytest.param(
                {"quantity": "2.5"}, "'qty' must be an integer, got '2.5'", id="fractional-qty-string"
            ),
            pytest.param({"price": "ten"}, "'itemPrice' must be a number, got 'ten'", id="word-price"),
            pytest.param(
                {"price": {"v": 1}}, "'itemPrice' must be a number, got an object", id="object-price"
            ),
            pytest.param({"name": ["a", "b"]}, "'name' must be a string, got a list of 2", id="list-name"),
            pytest.param({"sku": None}, "missing required field 'sku'", id="null-sku"),
            pytest.param({"category": ""}, "missing required field 'category'", id="empty-category"),
        ],
    )
    def test_each_failure(self, translator, error_for, properties, message) -> None:
        """Every kind of failure gives a validation error naming the field."""
        assert error_for(translator.translate(product_added(**properties)), ACTION) == message

    def test_several_failures_are_reported_together(self, translator, error_for) -> None:
        """All failures of one action come back in one message, in field order."""
        event = product_added(quantity="many", price="ten", category=None)
        assert error_for(translator.translate(event), ACTION) == (
            "'qty' must be an integer, got 'many'; missing required field 'category'; "
            "'itemPrice' must be a number, got 'ten'"
        )

    def test_other_actions_still_go_out(self, translator, body_for, error_for) -> None:
        """A failing action does not hold back the other actions of the same event."""
        result = translator.translate(product_added(sku=None))
        assert [r.action for r in result.results] == ["createContactactivity", ACTION]
        assert body_for(result, "createContactactivity")["action"] == "Product Added"
        assert error_for(result, ACTION) == "missing required field 'sku'"


class TestMapping:
    def test_description_can_be_mapped(self, make_translator, body_for) -> None:
        """`description` has no default; a configured mapping puts it in its wire slot."""
        translator = make_translator(
            actions={"addProductToCart": {"fields": {"description": "$.properties.desc"}}}
        )
        body = body_for(translator.translate(product_added(desc="Board game", price=5)), ACTION)
        keys = list(body)
        assert body["description"] == "Board game"
        assert keys.index("name") < keys.index("description") < keys.index("itemPrice")

    def test_only_product_added_tracks_match(self, translator) -> None:
        """The default trigger needs both the track type and the event name."""
        result = translator.translate({**product_added(), "type": "page"})
        assert ACTION not in [r.action for r in result.results]
