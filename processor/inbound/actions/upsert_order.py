"""upsertOrder: create or update an order (`event` in Order Completed/Updated/Refunded/Cancelled).

The trigger tests `event` only, so a message of any type with such an event name matches.
`items` come from `properties.products` (a single object counts as a one-item list; a null
entry maps every field to null, so `""`/0 after coercion). `discountApplication` is always
sent: `{"type": "fixed", "amount": discount}` for a non-zero discount (negative too), `null`
for 0, "0", null, "" or absent. Brand is sent as `manufacturerName` (the hosted default
misspells the key and drops it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.mapping import MISSING, is_empty
from processor.inbound.payload import CoercionError, FieldSpec, Kind, coerce

ACTION: Final = "upsertOrder"
DEFAULT_TRIGGER: Final = (
    'event = "Order Completed" or event = "Order Updated" or event = "Order Refunded"'
    ' or event = "Order Cancelled"'
)
DEFAULT_FIELDS: Final[Mapping[str, object]] = {
    "orderID": "$.properties.order_id",
    "purchaseDate": "$.timestamp",
    "status": "$.event",
    "totalAmount": "$.properties.total",
    "properties": {
        "affiliation": "$.properties.affiliation",
        "revenue": "$.properties.revenue",
        "shipping": "$.properties.shipping",
        "tax": "$.properties.tax",
        "discount": "$.properties.discount",
        "coupon": "$.properties.coupon",
        "currency": "$.properties.currency",
    },
    "items": {
        "@arrayPath": [
            "$.properties.products",
            {
                "productID": "$.product_id",
                "sku": "$.sku",
                "category": "$.category",
                "name": "$.name",
                "manufacturerName": "$.brand",
                "itemPrice": "$.price",
                "qty": "$.quantity",
                "url": "$.url",
                "imageUrl": "$.image_url",
                "properties": {"variant": "$.variant", "coupon": "$.coupon"},
            },
        ]
    },
    "discountApplication": {"type": {"@literal": "fixed"}, "amount": "$.properties.discount"},
}
ITEM_SCHEMA: Final = (
    FieldSpec("productID", Kind.STRING, required=True),
    FieldSpec("sku", Kind.STRING, required=True),
    FieldSpec("category", Kind.STRING),
    FieldSpec("name", Kind.STRING, required=True),
    FieldSpec("manufacturerName", Kind.STRING),
    FieldSpec("itemPrice", Kind.NUMBER),
    FieldSpec("qty", Kind.INTEGER),
    FieldSpec("url", Kind.STRING),
    FieldSpec("imageUrl", Kind.STRING),
    FieldSpec("properties", Kind.OBJECT),
)
SCHEMA: Final = (
    FieldSpec("orderID", Kind.STRING, required=True),
    FieldSpec("purchaseDate", Kind.ANY, required=True),
    FieldSpec("status", Kind.STRING, required=True),
    FieldSpec("totalAmount", Kind.NUMBER, required=True),
    FieldSpec("properties", Kind.OBJECT),
    FieldSpec("items", Kind.ITEMS, required=True, items=ITEM_SCHEMA),
    FieldSpec("discountApplication", Kind.ANY),
)
_ORDER: Final = tuple(spec.name for spec in SCHEMA)


def prepare(values: dict[str, object]) -> list[str]:
    """Turn the mapped `discountApplication` into its wire value (always present)."""
    raw = values.get("discountApplication", MISSING)
    kind: object = "fixed"
    if isinstance(raw, Mapping):
        amount = raw.get("amount", MISSING)
        kind = raw.get("type", "fixed")
    else:
        amount = raw
    values["discountApplication"] = None
    if is_empty(amount):
        return []
    try:
        number = coerce(amount, Kind.NUMBER)
    except CoercionError as exc:
        return [f"'discountApplication.amount' {exc}"]
    if number != 0:
        values["discountApplication"] = {"type": "fixed" if is_empty(kind) else kind, "amount": number}
    return []


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, _ORDER)}
