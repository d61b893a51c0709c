"""addProductToCart: put a product in the contact's cart (`event = "Product Added"`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "addProductToCart"
DEFAULT_TRIGGER: Final = 'type = "track" and event = "Product Added"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {
    "productID": "$.properties.product_id",
    "sku": "$.properties.sku",
    "qty": "$.properties.quantity",
    "category": "$.properties.category",
    "name": "$.properties.name",
    # `description` has no default mapping, as in the hosted destination.
    "itemPrice": "$.properties.price",
    "url": "$.properties.url",
    "imageUrl": "$.properties.image_url",
    "properties": {
        "brand": "$.properties.brand",
        "variant": "$.properties.variant",
        "coupon": "$.properties.coupon",
    },
}
SCHEMA: Final = (
    FieldSpec("productID", Kind.STRING, required=True),
    FieldSpec("sku", Kind.STRING, required=True),
    FieldSpec("qty", Kind.INTEGER, required=True),
    FieldSpec("category", Kind.STRING, required=True),
    FieldSpec("name", Kind.STRING, required=True),
    FieldSpec("description", Kind.STRING),
    FieldSpec("itemPrice", Kind.NUMBER),
    FieldSpec("url", Kind.STRING),
    FieldSpec("imageUrl", Kind.STRING),
    FieldSpec("properties", Kind.OBJECT),
)
_ORDER: Final = tuple(spec.name for spec in SCHEMA)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, _ORDER)}
