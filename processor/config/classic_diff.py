"""What `cordial-integration apply` would change: a checked file against the live integration.

Pure. The live side is read leniently (it is whatever Cordial holds: extra keys such as ids
are ignored, malformed entries skipped). Order does not count: the same mappings or ignored
fields in another order are no difference, so a re-apply sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from processor.config.classic import IGNORE_MISSING, ClassicIntegration

ChangeKind = Literal["added", "removed", "changed"]
_MARKS = {"added": "+", "removed": "-", "changed": "~"}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. `item` is the Segment field for list sections, "" for a single value."""

    section: str
    kind: ChangeKind
    item: str = ""
    old: object = None
    new: object = None


@dataclass(frozen=True, slots=True)
class IntegrationDiff:
    """`exists`: Cordial has a Segment integration (apply PUTs) or not (apply POSTs)."""

    exists: bool
    changes: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return self.exists and not self.changes

    @property
    def method(self) -> str:
        return "PUT" if self.exists else "POST"

    def render(self) -> str:
        """Readable text, one line per change, grouped by section."""
        if self.empty:
            return "No difference: the live Segment integration already matches the file."
        head = (
            "Changes to the live Segment integration (PUT):"
            if self.exists
            else "No Segment integration is set up in Cordial; it will be created (POST):"
        )
        lines = [head]
        section = ""
        for change in self.changes:
            if not change.item:
                lines.append(f"  {change.section}: {_value(change.old)} → {_value(change.new)}")
                continue
            if change.section != section:
                section = change.section
                lines.append(f"  {section}:")
            lines.append(f"    {_MARKS[change.kind]} {_item(change)}")
        return "\n".join(lines)


def diff_integration(desired: ClassicIntegration, live: Mapping[str, object] | None) -> IntegrationDiff:
    """Compare the file's integration with the live one (None = there is none)."""
    current = live or {}
    changes: list[Change] = []
    if current.get("enabled") != desired.enabled:
        changes.append(Change("enabled", "changed", old=current.get("enabled"), new=desired.enabled))
    changes.extend(_mapping_changes(desired, current.get("attributeMapping")))
    changes.extend(_ignore_changes(desired, current.get("ignoreFields")))
    live_handling = current.get("contactsErrorHandling") or None
    new_handling = IGNORE_MISSING if desired.contacts_error_handling == IGNORE_MISSING else None
    if live_handling != new_handling:
        changes.append(Change("contactsErrorHandling", "changed", old=live_handling, new=new_handling))
    return IntegrationDiff(exists=live is not None, changes=tuple(changes))


def _mapping_changes(desired: ClassicIntegration, live: object) -> list[Change]:
    wanted: dict[str, list[str]] = {}
    for m in desired.attribute_mapping:
        wanted.setdefault(m.segment_field, []).append(m.cordial_key)
    current: dict[str, list[str]] = {}
    for item in live if isinstance(live, list) else []:
        if isinstance(item, Mapping):
            field, key = item.get("segmentField"), item.get("cordialKey")
            if isinstance(field, str) and isinstance(key, str) and key not in current.get(field, []):
                current.setdefault(field, []).append(key)
    changes: list[Change] = []
    for field in dict.fromkeys((*wanted, *current)):
        new, old = wanted.get(field, []), current.get(field, [])
        if set(new) == set(old):
            continue
        if len(new) == 1 and len(old) == 1:
            changes.append(Change("attributeMapping", "changed", field, old[0], new[0]))
            continue
        changes.extend(Change("attributeMapping", "added", field, new=k) for k in new if k not in old)
        changes.extend(Change("attributeMapping", "removed", field, old=k) for k in old if k not in new)
    return changes


def _ignore_changes(desired: ClassicIntegration, live: object) -> list[Change]:
    current = [f for f in live if isinstance(f, str)] if isinstance(live, list) else []
    added = [Change("ignoreFields", "added", f) for f in desired.ignore_fields if f not in current]
    removed = [Change("ignoreFields", "removed", f) for f in current if f not in desired.ignore_fields]
    return added + removed


def _item(change: Change) -> str:
    if change.section != "attributeMapping":
        return change.item
    if change.kind == "changed":
        return f"{change.item} → {change.new} (was {change.old})"
    return f"{change.item} → {change.new if change.kind == 'added' else change.old}"


def _value(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)
