"""mergeContacts: merge the previous Segment id's contact into this one (`type = "alias"`).

No identity prefix: the body is `segmentIdKey`, `anonymousId`, `segmentId`, `previousId`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "mergeContacts"
DEFAULT_TRIGGER: Final = 'type = "alias"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {"previousId": "$.previousId"}
SCHEMA: Final = (
    FieldSpec("segmentIdKey", Kind.STRING),
    FieldSpec("anonymousId", Kind.STRING),
    FieldSpec("segmentId", Kind.STRING),
    FieldSpec("previousId", Kind.STRING, required=True),
)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return ordered(values, ("segmentIdKey", "anonymousId", "segmentId", "previousId"))
