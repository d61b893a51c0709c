"""Cordial's classic Segment-integration JSON (SPEC §3.2, §3.4; seed 000): parse, check, convert.

One file drives both `cordial-integration apply` (the body sent to Cordial's admin API) and the
local inbound settings (`inbound.classic_file`)::

    {"name": "segment", "enabled": true,
     "attributeMapping": [{"segmentField": "address.state", "cordialKey": "state"}],
     "ignoreFields": ["website"], "contactsErrorHandling": "ignoreMissingAttributes"}

Rules, each broken one reported with its JSON path, all at once:

* the top level is an object with no keys but those above;
* `name`, when given, is "segment"; `enabled`, when given, is a boolean (absent = true);
* `attributeMapping` (absent = none) is a list of `{"segmentField", "cordialKey"}` objects, both
  non-empty dotted paths without blanks at the ends or empty parts (`a..b`); the same pair may not
  appear twice (one field may feed several keys, several fields one key);
* `ignoreFields` (absent = none) is a list of distinct dotted paths, none of them also mapped;
* `contactsErrorHandling` is absent (strict: unknown attributes fail) or "ignoreMissingAttributes".

Locally `enabled` is not consulted: turning the classic integration off in Cordial is how a team
moves to this bridge, and the bridge should then apply the same mapping.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from processor.config.settings import AttributeMapping, ContactsErrorHandling, InboundSettings
from processor.errors import ConfigError

INTEGRATION_NAME: Final = "segment"
IGNORE_MISSING: Final = "ignoreMissingAttributes"
TOP_LEVEL_KEYS: Final = ("name", "enabled", "attributeMapping", "ignoreFields", "contactsErrorHandling")
MAPPING_KEYS: Final = ("segmentField", "cordialKey")


@dataclass(frozen=True, slots=True)
class ClassicIntegration:
    """A checked integration: the body `apply` sends, and the local inbound settings it implies."""

    enabled: bool = True
    attribute_mapping: tuple[AttributeMapping, ...] = ()
    ignore_fields: tuple[str, ...] = ()
    contacts_error_handling: ContactsErrorHandling = "strict"

    def to_body(self) -> dict[str, object]:
        """The admin API body, keys in the seed's order; strict error handling is sent as no key."""
        body: dict[str, object] = {
            "name": INTEGRATION_NAME,
            "enabled": self.enabled,
            "attributeMapping": [
                {"segmentField": m.segment_field, "cordialKey": m.cordial_key} for m in self.attribute_mapping
            ],
            "ignoreFields": list(self.ignore_fields),
        }
        if self.contacts_error_handling == IGNORE_MISSING:
            body["contactsErrorHandling"] = IGNORE_MISSING
        return body

    @classmethod
    def from_inbound(cls, inbound: InboundSettings, *, enabled: bool = True) -> ClassicIntegration:
        """The integration equivalent to the local settings (to publish a YAML-only mapping)."""
        return cls(
            enabled=enabled,
            attribute_mapping=tuple(inbound.attribute_mapping),
            ignore_fields=tuple(inbound.ignore_fields),
            contacts_error_handling=inbound.contacts_error_handling,
        )

    def merge_into(self, inbound: InboundSettings) -> InboundSettings:
        """Local settings with this file's options merged in; the YAML's own entries win.

        Mappings: the file's, then the YAML's; a YAML entry replaces the file's entries for the
        same Segment field. Ignored fields: the union, file first. Error handling:
        `ignoreMissingAttributes` when either says so.
        """
        local_fields = {m.segment_field for m in inbound.attribute_mapping}
        mapping = tuple(m for m in self.attribute_mapping if m.segment_field not in local_fields)
        ignore = dict.fromkeys((*self.ignore_fields, *inbound.ignore_fields))
        handling: ContactsErrorHandling = (
            IGNORE_MISSING
            if IGNORE_MISSING in (inbound.contacts_error_handling, self.contacts_error_handling)
            else "strict"
        )
        return dataclasses.replace(
            inbound,
            attribute_mapping=(*mapping, *inbound.attribute_mapping),
            ignore_fields=tuple(ignore),
            contacts_error_handling=handling,
        )


class ClassicFileError(ConfigError):
    """An integration file that cannot be used; `problems` holds one `$.path: reason` per fault."""

    def __init__(self, problems: Sequence[str], *, where: str | None = None) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"invalid Cordial integration file ({count} problem{'s' if count != 1 else ''})"
        super().__init__("\n  ".join((head + ":", *self.problems)), where=where)


def parse_integration(data: object, *, where: str | None = None) -> ClassicIntegration:
    """Check a decoded integration object; raise ClassicFileError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ClassicFileError([f"$: expected an object, got {_kind(data)}"], where=where)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"$.{key}: unknown key (expected one of {', '.join(TOP_LEVEL_KEYS)})")
    name = data.get("name", INTEGRATION_NAME)
    if name != INTEGRATION_NAME:
        problems.append(f'$.name: must be "segment", got {_show(name)}')
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"$.enabled: expected true or false, got {_show(enabled)}")
    mapping = _parse_mapping(data.get("attributeMapping", []), problems)
    ignore = _parse_ignore(data.get("ignoreFields", []), mapping, problems)
    handling = data.get("contactsErrorHandling")
    if handling not in (None, IGNORE_MISSING):
        problems.append(
            f'$.contactsErrorHandling: must be "{IGNORE_MISSING}" or left out, got {_show(handling)}'
        )
    if problems:
        raise ClassicFileError(problems, where=where)
    return ClassicIntegration(
        enabled=bool(enabled),
        attribute_mapping=tuple(m for m, _ in mapping),
        ignore_fields=ignore,
        contacts_error_handling=IGNORE_MISSING if handling == IGNORE_MISSING else "strict",
    )


def parse_integration_text(text: str, *, where: str | None = None) -> ClassicIntegration:
    """Decode JSON text (a syntax error names line and column) and check it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClassicFileError(
            [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"], where=where
        ) from exc
    return parse_integration(data, where=where)


def load_integration_file(path: str | Path) -> ClassicIntegration:
    """Read and check an integration file; ConfigError (with the file name) when it cannot be used."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read Cordial integration file: {exc.strerror}", where=str(source)) from exc
    except UnicodeDecodeError as exc:
        raise ClassicFileError([f"not UTF-8 text: {exc.reason}"], where=str(source)) from exc
    return parse_integration_text(text, where=str(source))


def apply_classic_file(inbound: InboundSettings, *, base_dir: Path | None = None) -> InboundSettings:
    """The loader's hook: merge `inbound.classic_file` (relative to the config file's folder)."""
    if not inbound.classic_file:
        return inbound
    path = Path(inbound.classic_file)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return load_integration_file(path).merge_into(inbound)


def _parse_mapping(value: object, problems: list[str]) -> list[tuple[AttributeMapping, str]]:
    """Each valid mapping with its JSON path; problems appended for the rest."""
    if not isinstance(value, list):
        problems.append(f"$.attributeMapping: expected a list, got {_kind(value)}")
        return []
    found: list[tuple[AttributeMapping, str]] = []
    seen: dict[tuple[str, str], str] = {}
    for index, item in enumerate(value):
        where = f"$.attributeMapping[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object, got {_kind(item)}")
            continue
        for key in item:
            if key not in MAPPING_KEYS:
                problems.append(f"{where}.{key}: unknown key (expected segmentField, cordialKey)")
        fields = [_path_value(item, key, where, problems) for key in MAPPING_KEYS]
        if fields[0] is None or fields[1] is None:
            continue
        pair = (fields[0], fields[1])
        if pair in seen:
            problems.append(f"{where}: {fields[0]} → {fields[1]} is already mapped at {seen[pair]}")
            continue
        seen[pair] = where
        found.append((AttributeMapping(segment_field=pair[0], cordial_key=pair[1]), where))
    return found


def _parse_ignore(
    value: object, mapping: list[tuple[AttributeMapping, str]], problems: list[str]
) -> tuple[str, ...]:
    if not isinstance(value, list):
        problems.append(f"$.ignoreFields: expected a list, got {_kind(value)}")
        return ()
    mapped = {m.segment_field: where for m, where in reversed(mapping)}
    seen: dict[str, str] = {}
    for index, item in enumerate(value):
        where = f"$.ignoreFields[{index}]"
        problem = _path_problem(item)
        if problem:
            problems.append(f"{where}: {problem}")
        elif item in seen:
            problems.append(f"{where}: {_show(item)} is already listed at {seen[item]}")
        elif item in mapped:
            problems.append(f"{where}: {_show(item)} is ignored and mapped at {mapped[item]}; choose one")
        else:
            seen[item] = where
    return tuple(seen)


def _path_value(item: Mapping[str, object], key: str, where: str, problems: list[str]) -> str | None:
    if key not in item:
        problems.append(f"{where}.{key}: missing")
        return None
    value = item[key]
    problem = _path_problem(value)
    if problem:
        problems.append(f"{where}.{key}: {problem}")
        return None
    assert isinstance(value, str)
    return value


def _path_problem(value: object) -> str | None:
    """Why `value` is not a usable dotted field path, or None."""
    if not isinstance(value, str):
        return f"expected a string, got {_kind(value)}"
    if not value.strip():
        return "must not be empty"
    if value != value.strip():
        return f"{_show(value)} has blanks at an end"
    if any(not part for part in value.split(".")):
        return f"{_show(value)} has an empty part between dots"
    return None


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
