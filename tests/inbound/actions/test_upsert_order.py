"""upsertOrder: golden bodies, products shapes, item coercion, discountApplication rules."""

from __future__ import annotations

import orjson
import pytest

from processor.inbound.actions import upsert_order

ACTION = upsert_order.ACTION

PRODUCT = {"product_id": "p1", "sku": "s1", "name": "n1"}


def order(event: str = "Order Completed", type_: str = "track", **properties: object) -> dict[str, object]:
    props: dict[str, object] = {"order_id": "o1", "total": 10, "products": [PRODUCT]}
    props.update(properties)
    return {
        "type": type_,
        "userId": "u",
        "event": event,
        "timestamp": "2024-05-01T00:00:00Z",
        "properties": props,
    }


class TestGolden:
    @pytest.mark.parametrize("case", ["required", "all"])
    def test_default_mapping_body_is_byte_exact(self, translator, golden, body_for, case) -> None:
        """The default mapping gives exactly the stored body, keys in wire order."""
        event, expected = golden("upsert_order", case)
        assert orjson.dumps(body_for(translator.translate(event), ACTION)) == expected


class TestTrigger:
    @pytest.mark.parametrize(
        "event", ["Order Completed", "Order Updated", "Order Refunded", "Order Cancelled"]
    )
    def test_each_order_event_matches(self, translator, body_for, event) -> None:
        """The four order events upsert the order, with the event name as status."""
        assert body_for(translator.translate(order(event)), ACTION)["status"] == event

    def test_trigger_tests_event_only(self, translator, body_for) -> None:
        """Any message type with an order event name matches (an identify here)."""
        result = translator.translate(order(type_="identify"))
        assert [r.action for r in result.results] == ["upsertContact", ACTION]
        assert body_for(result, ACTION)["orderID"] == "o1"

    def test_other_events_do_not_match(self, translator) -> None:
        """Order Viewed is not an order upsert."""
        result = translator.translate(order("Order Viewed"))
        assert ACTION not in [r.action for r in result.results]


class TestProducts:
    def test_single_object_is_a_one_item_list(self, translator, body_for) -> None:
        """`products` given as one object is treated as a list of one."""
        body = body_for(translator.translate(order(products=PRODUCT)), ACTION)
        assert body["items"] == [{"productID": "p1", "sku": "s1", "name": "n1", "properties": {}}]

    def test_empty_list_is_sent_as_empty_items(self, translator) -> None:
        """An empty list is sent as `"items": []`, byte for byte."""
        result = translator.translate(order(products=[]))
        body = next(r for r in result.results if r.action == ACTION).body
        assert b'"items":[],"discountApplication":null}' in orjson.dumps(body)

    def test_null_entry_maps_every_field_to_empty(self, translator, body_for) -> None:
        """A null product gives ""/0 fields and null item properties."""
        body = body_for(translator.translate(order(products=[None])), ACTION)
        assert body["items"] == [
            {
                "productID": "",
                "sku": "",
                "category": "",
                "name": "",
                "manufacturerName": "",
                "itemPrice": 0,
                "qty": 0,
                "url": "",
                "imageUrl": "",
                "properties": {"variant": None, "coupon": None},
            }
        ]

    def test_null_item_fields_become_empty_and_zero(self, translator, body_for) -> None:
        """Inside items, null is "" for strings and 0 for numbers."""
        product = {**PRODUCT, "price": None, "quantity": None, "brand": None}
        item = body_for(translator.translate(order(products=[product])), ACTION)["items"][0]
        assert (item["itemPrice"], item["qty"], item["manufacturerName"]) == (0, 0, "")

    def test_brand_is_sent_as_manufacturer_name(self, translator, body_for) -> None:
        """The SPEC fixes the hosted default's misspelt key."""
        item = body_for(translator.translate(order(products=[{**PRODUCT, "brand": "Acme"}])), ACTION)[
            "items"
        ][0]
        assert item["manufacturerName"] == "Acme"

    def test_item_coercion(self, translator, body_for) -> None:
        """Item fields are coerced like top-level ones."""
        product = {"product_id": 1, "sku": 2, "name": "n", "price": "2.50", "quantity": "3"}
        item = body_for(translator.translate(order(products=[product])), ACTION)["items"][0]
        assert item == {
            "productID": "1",
            "sku": "2",
            "name": "n",
            "itemPrice": 2.5,
            "qty": 3,
            "properties": {},
        }

    def test_product_without_sku_fails(self, translator, error_for) -> None:
        """A product lacking a required key is a validation error naming the item."""
        products = [PRODUCT, {"product_id": "p2", "name": "n2"}]
        assert error_for(translator.translate(order(products=products)), ACTION) == (
            "missing required field 'items[1].sku'"
        )

    def test_item_failures_reported_with_top_level_ones(self, translator, error_for) -> None:
        """Item and top-level failures come back together."""
        products = [{**PRODUCT, "quantity": 2.5}, "junk"]  # a scalar product has none of the keys
        message = error_for(translator.translate(order(products=products, total="ten")), ACTION)
        assert message == (
            "'totalAmount' must be a number, got 'ten'; 'items[0].qty' must be an integer, got 2.5; "
            "missing required field 'items[1].productID'; missing required field 'items[1].sku'; "
            "missing required field 'items[1].name'"
        )

    @pytest.mark.parametrize("products", [None, "absent"], ids=["null", "absent"])
    def test_missing_products_fail(self, translator, error_for, products) -> None:
        """Without products there are no items, and items are required."""
        message = order()
        props = message["properties"]
        assert isinstance(props, dict)
        if products == "absent":
            del props["products"]
        else:
            props["products"] = None
        assert error_for(translator.translate(message), ACTION) == "missing required field 'items'"


class TestTopLevel:
    def test_numeric_order_id_becomes_a_string(self, translator, body_for) -> None:
        """orderID is a string field."""
        assert body_for(translator.translate(order(order_id=1001)), ACTION)["orderID"] == "1001"

    def test_string_total_becomes_a_number(self, translator, body_for) -> None:
        """totalAmount "27.50" → 27.5."""
        assert body_for(translator.translate(order(total="27.50")), ACTION)["totalAmount"] == 27.5

    def test_missing_timestamp_fails(self, translator, error_for) -> None:
        """purchaseDate is required."""
        message = order()
        del message["timestamp"]
        assert error_for(translator.translate(message), ACTION) == "missing required field 'purchaseDate'"


class TestDiscountApplication:
    @pytest.mark.parametrize(
        "discount",
        [0, "0", 0.0, None, "", "absent"],
        ids=["zero", "zero-string", "zero-float", "null", "empty", "absent"],
    )
    def test_no_discount_is_null_and_still_sent(self, translator, body_for, discount) -> None:
        """0, "0", null, "" or absent → `"discountApplication": null`, always present."""
        message = order() if discount == "absent" else order(discount=discount)
        body = body_for(translator.translate(message), ACTION)
        assert "discountApplication" in body
        assert body["discountApplication"] is None

    @pytest.mark.parametrize(
        ("discount", "amount"),
        [(2.5, 2.5), ("3.25", 3.25), (-5, -5), ("10", 10)],
        ids=["float", "string", "negative", "int-string"],
    )
    def test_non_zero_discount_is_fixed(self, translator, body_for, discount, amount) -> None:
        """Any non-zero discount, negative too, is a fixed discount of that amount."""
        body = body_for(translator.translate(order(discount=discount)), ACTION)
        assert body["discountApplication"] == {"type": "fixed", "amount": amount}
        assert list(body)[-1] == "discountApplication"

    def test_discount_failure_reported_with_the_others(self, translator, error_for) -> None:
        """A bad discount joins the other failures of the action, in body order."""
        assert error_for(translator.translate(order(discount="ten", total="lots")), ACTION) == (
            "'totalAmount' must be a number, got 'lots'; "
            "'discountApplication.amount' must be a number, got 'ten'"
        )

    def test_uncoercible_discount_fails(self, translator, error_for) -> None:
        """ "ten" as a discount amount is a validation error."""
        assert error_for(translator.translate(order(discount="ten")), ACTION) == (
            "'discountApplication.amount' must be a number, got 'ten'"
        )
