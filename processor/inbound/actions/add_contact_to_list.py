"""addContactToList: add the contact to a list, created on first use (`type = "group"`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "addContactToList"
DEFAULT_TRIGGER: Final = 'type = "group"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {"groupId": "$.groupId", "listName": "$.traits.name"}
SCHEMA: Final = (FieldSpec("groupId", Kind.STRING, required=True), FieldSpec("listName", Kind.STRING))


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, ("groupId", "listName"))}
