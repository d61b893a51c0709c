"""removeProductFromCart: golden bodies, integer qty."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import remove_product_from_cart

ACTION = remove_product_from_cart.ACTION


def product_removed(**properties: object) -> dict[str, object]:
    return {"type": "track", "userId": "u", "event": "Product Removed", "properties": properties}


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("remove_product_from_cart", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestFields:
    def test_string_qty_and_numeric_id_are_coerced(self, translator, body_for) -> None:
        """qty "3" → 3, product_id 9 → "9"."""
        body = body_for(translator.translate(product_removed(product_id=9, quantity="3")), ACTION)
        assert (body["productID"], body["qty"]) == ("9", 3)

    def test_missing_both_required_fields(self, translator, error_for) -> None:
        """Both required fields missing are reported in one message."""
        assert error_for(translator.translate(product_removed()), ACTION) == (
            "missing required field 'productID'; missing required field 'qty'"
        )

    def test_fractional_qty_fails(self, translator, error_for) -> None:
        """qty must be an integer."""
        message = product_removed(product_id="p", quantity=1.5)
        assert error_for(translator.translate(message), ACTION) == "'qty' must be an integer, got 1.5"
