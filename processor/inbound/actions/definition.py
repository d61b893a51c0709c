"""What every action module provides, and the pieces the actions share.

Each module under `actions/` holds one action of the hosted "Cordial (Actions)" destination:
its wire name (`ACTION`), `DEFAULT_TRIGGER`, `DEFAULT_FIELDS` (mapping expressions, see
`inbound/mapping.py`), `SCHEMA` (the typed fields after the identity prefix) and `build_body`,
which writes the body's keys in the order they are sent (key order is part of the contract).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from processor.inbound.payload import FieldSpec, Kind

PREFIX_SCHEMA: tuple[FieldSpec, ...] = (
    FieldSpec("segmentIdKey", Kind.STRING),
    FieldSpec("segmentId", Kind.STRING),
    FieldSpec("anonymousId", Kind.STRING),
    FieldSpec("userIdentities", Kind.OBJECT),
)


def _no_preparation(values: dict[str, object]) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class ActionDefinition:
    action: str
    default_trigger: str | None
    default_fields: Mapping[str, object]
    schema: tuple[FieldSpec, ...]
    """Fields after the prefix; their names are the keys a user may map."""
    build_body: Callable[[Mapping[str, object]], dict[str, object]]
    identity_prefix: bool = True
    prepare: Callable[[dict[str, object]], list[str]] = field(default=_no_preparation)
    """Action-specific work on the mapped values before cleaning; returns validation failures."""

    @property
    def has_preparation(self) -> bool:
        """Whether the action reworks its mapped values before cleaning (`prepare` is not a no-op)."""
        return self.prepare is not _no_preparation

    @property
    def full_schema(self) -> tuple[FieldSpec, ...]:
        prefix = PREFIX_SCHEMA if self.identity_prefix else ()
        return (*prefix, *self.schema)


def ordered(values: Mapping[str, object], keys: Sequence[str]) -> dict[str, object]:
    """The present `values` among `keys`, in the order of `keys`."""
    return {key: values[key] for key in keys if key in values}


def identity_prefix(values: Mapping[str, object]) -> dict[str, object]:
    """`segmentIdKey`, `segmentId`, `anonymousId`, `userIdentities`: the prefix, in wire order."""
    return ordered(values, ("segmentIdKey", "segmentId", "anonymousId", "userIdentities"))
