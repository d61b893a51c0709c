"""upsertContact: create or update a contact and its attributes (`type = "identify"`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "upsertContact"
DEFAULT_TRIGGER: Final = 'type = "identify"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {}
"""`attributes` has no mapping by default: it is the message's traits as `inbound/classic.py` shapes them."""
SCHEMA: Final = (FieldSpec("attributes", Kind.OBJECT),)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, ("attributes",))}
