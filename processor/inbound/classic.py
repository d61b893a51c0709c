"""The classic Cordial integration options (seed 000, SPEC §3.2): how traits become attributes.

* `attribute_mapping`: Segment field → Cordial key. The field is a trait path, dotted paths
  allowed (`address.state` → `state`), or an absolute message path (`$.userId`); `user_id` /
  `userId` fall back to the message's userId when the traits lack them. The mapped key takes
  the place of its source; a nested source leaves its parent object without it.
* `ignore_fields`: trait paths that never become attributes (they win over a mapping).
* Default `upsertContact.attributes` = the message's traits (`traits`, or `context.traits` where
  Segment puts them for calls other than identify), without the trait keys that fed an
  identity (e.g. `email` when it became `channels.email.address`) unless a mapping names them,
  after the two options above.
* `contacts_error_handling` with `known_attributes`: `strict` makes an attribute outside the list
  a validation error; `ignoreMissingAttributes` drops it. Without a list every attribute is kept
  (Cordial itself ignores unknown ones). Channel keys (`channels.…`) are never checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from processor.config.settings import ContactsErrorHandling, InboundSettings
from processor.inbound.mapping import MISSING, Path, parse_path, resolve

_USER_ID_NAMES = frozenset({"user_id", "userId"})


@dataclass(frozen=True, slots=True)
class MappedField:
    source: tuple[str, ...]
    """Steps under `traits`; empty when `absolute` is used."""
    absolute: Path | None
    cordial_key: str
    user_id_fallback: bool


@dataclass(frozen=True, slots=True)
class ClassicOptions:
    mapping: tuple[MappedField, ...] = ()
    ignore: tuple[tuple[str, ...], ...] = ()
    error_handling: ContactsErrorHandling = "strict"
    known: frozenset[str] | None = None


def compile_classic(settings: InboundSettings) -> ClassicOptions:
    """The classic options of `settings`, parsed once (ConfigError for a malformed path)."""
    mapped = []
    for index, item in enumerate(settings.attribute_mapping):
        where = f"inbound.attribute_mapping[{index}]"
        field = item.segment_field
        if field.startswith("$"):
            mapped.append(MappedField((), parse_path(field, where=where), item.cordial_key, False))
        else:
            steps = tuple(field.split("."))
            mapped.append(MappedField(steps, None, item.cordial_key, field in _USER_ID_NAMES))
    known = None if settings.known_attributes is None else frozenset(settings.known_attributes)
    return ClassicOptions(
        mapping=tuple(mapped),
        ignore=tuple(tuple(f.split(".")) for f in settings.ignore_fields),
        error_handling=settings.contacts_error_handling,
        known=known,
    )


def default_attributes(
    message: Mapping[str, object], used_identity: Sequence[Path], options: ClassicOptions
) -> dict[str, object]:
    """`traits` → attributes: identity keys removed, mapping and ignore applied (order kept)."""
    raw = message.get("traits")
    where: tuple[str, ...] = ("traits",)
    if not isinstance(raw, dict):
        context = message.get("context")
        raw = context.get("traits") if isinstance(context, dict) else None
        where = ("context", "traits")
    traits: Mapping[str, object] = raw if isinstance(raw, dict) else {}
    depth = len(where)
    identity_keys = {
        p.steps[depth] for p in used_identity if len(p.steps) == depth + 1 and p.steps[:depth] == where
    }
    if not options.mapping and not options.ignore:  # the default: only the identity keys leave
        drop = {str(k) for k in identity_keys}
        return {key: value for key, value in traits.items() if key not in drop}
    mapped_sources = {m.source for m in options.mapping if m.source}
    removals = [*options.ignore, *mapped_sources]
    removals += [(str(k),) for k in identity_keys if (k,) not in mapped_sources]
    stripped = _without(traits, removals)

    attributes: dict[str, object] = {}
    placed: set[int] = set()
    for key in traits:
        if key in stripped:
            attributes[key] = stripped[key]
        for index, item in enumerate(options.mapping):
            if item.source and item.source[0] == key:
                value = _mapped_value(item, traits, message, options)
                placed.add(index)
                if value is not MISSING:
                    attributes[item.cordial_key] = value
    for index, item in enumerate(options.mapping):
        if index not in placed:
            value = _mapped_value(item, traits, message, options)
            if value is not MISSING:
                attributes[item.cordial_key] = value
    return attributes


def _mapped_value(
    item: MappedField, traits: Mapping[str, object], message: Mapping[str, object], options: ClassicOptions
) -> object:
    if item.absolute is not None:
        return resolve(item.absolute, message)
    if any(item.source[: len(ignored)] == ignored for ignored in options.ignore):
        return MISSING
    value = resolve(Path(item.source, ".".join(item.source)), traits)
    if value is MISSING and item.user_id_fallback:
        return message.get("userId", MISSING)
    return value


def _without(obj: Mapping[str, object], removals: Sequence[tuple[str, ...]]) -> dict[str, object]:
    """A copy of `obj` without the leaf paths in `removals`; a parent emptied by it goes too."""
    drop = {r[0] for r in removals if len(r) == 1}
    nested: dict[str, list[tuple[str, ...]]] = {}
    for r in removals:
        if len(r) > 1:
            nested.setdefault(r[0], []).append(r[1:])
    out: dict[str, object] = {}
    for key, value in obj.items():
        if key in drop:
            continue
        if key in nested and isinstance(value, Mapping):
            inner = _without(value, nested[key])
            if inner or not value:
                out[key] = inner
            continue
        out[key] = value
    return out


def check_known(
    attributes: Mapping[str, object], options: ClassicOptions
) -> tuple[dict[str, object], list[str]]:
    """Apply `known_attributes`: drop (ignoreMissingAttributes) or report (strict) unknown keys."""
    if options.known is None:
        return dict(attributes), []
    known = options.known
    unknown = [
        k for k in attributes if not (k in known or k.split(".")[0] in known or k.startswith("channels."))
    ]
    if not unknown:
        return dict(attributes), []
    if options.error_handling == "ignoreMissingAttributes":
        return {k: v for k, v in attributes.items() if k not in unknown}, []
    names = ", ".join(repr(k) for k in unknown)
    return dict(attributes), [f"unknown attribute(s) {names} (not in inbound.known_attributes)"]
