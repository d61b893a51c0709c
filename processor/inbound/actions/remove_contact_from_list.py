"""removeContactFromList: take the contact off a list. No default trigger: off unless configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "removeContactFromList"
DEFAULT_TRIGGER: Final[str | None] = None
DEFAULT_FIELDS: Final[Mapping[str, object]] = {"groupId": "$.groupId"}
SCHEMA: Final = (FieldSpec("groupId", Kind.STRING, required=True),)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, ("groupId",))}
