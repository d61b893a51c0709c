"""removeProductFromCart: take a product out of the cart (`event = "Product Removed"`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "removeProductFromCart"
DEFAULT_TRIGGER: Final = 'type = "track" and event = "Product Removed"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {
    "productID": "$.properties.product_id",
    "qty": "$.properties.quantity",
}
SCHEMA: Final = (
    FieldSpec("productID", Kind.STRING, required=True),
    FieldSpec("qty", Kind.INTEGER, required=True),
)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, ("productID", "qty"))}
