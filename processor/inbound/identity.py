"""The identity prefix every action but mergeContacts starts with (SPEC §3.1).

`segmentIdKey` (setting), `segmentId` (= userId), `anonymousId`, `userIdentities`: an ordered map
of Cordial identifier path → value whose keys are sent literally, dots included. Each identifier
takes the first of its Segment paths whose value is present (not null, not ""). Where the
identifier is an e-mail address (`channels.email.address`), `$.userId` is only taken when it is
an e-mail address, and any other source that is not one dead-letters the message as
`invalid_identifier`. A message with no userId, no anonymousId and no identity is
`missing_identifier` (the hosted destination would send it for Cordial to ignore).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from processor.errors import ErrorClass
from processor.inbound.exceptions import TranslationError
from processor.inbound.mapping import MISSING, Evaluator, Path, compile_getter, is_empty, parse_path

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_USER_ID: Final = ("userId",)
PREFIX_FIELDS: Final = ("segmentIdKey", "segmentId", "anonymousId", "userIdentities")


def is_email(value: object) -> bool:
    """A plausible e-mail address: one @, a dotted domain, no spaces, at most 254 characters."""
    return isinstance(value, str) and len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def is_email_key(key: str) -> bool:
    """Whether a Cordial identifier holds an e-mail address (`channels.email.address`)."""
    return key == "email" or key.endswith("email.address")


@dataclass(frozen=True, slots=True)
class IdentitySource:
    key: str
    paths: tuple[Path, ...]
    email: bool
    lookups: tuple[tuple[Path, Evaluator], ...] = field(init=False, repr=False, compare=False)
    """Each path with its compiled getter (built once here, called per message)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookups", tuple((path, compile_getter(path)) for path in self.paths))


@dataclass(slots=True)
class Identity:
    """The resolved identity of one message (treat as read-only).

    Not a frozen dataclass only because one is built per message and a frozen dataclass's
    `__init__` costs about three times as much.
    """

    segment_id: object
    anonymous_id: object
    user_identities: dict[str, object]
    used: tuple[Path, ...]
    """The paths whose values became identities (their trait keys leave the attributes)."""

    def prefix(self, segment_id_key: str) -> dict[str, object]:
        """The prefix values, in wire order (cleaning and coercion happen with the action's)."""
        return {
            "segmentIdKey": segment_id_key,
            "segmentId": self.segment_id,
            "anonymousId": self.anonymous_id,
            "userIdentities": self.user_identities,
        }


def compile_identities(identities: Mapping[str, Sequence[str]]) -> tuple[IdentitySource, ...]:
    """`inbound.identities` → sources; a malformed path is a ConfigError naming it."""
    sources = []
    for key, paths in identities.items():
        where = f"inbound.identities.{key}"
        compiled = tuple(parse_path(p, where=where) for p in paths)
        sources.append(IdentitySource(key, compiled, is_email_key(key)))
    return tuple(sources)


def resolve_identity(message: Mapping[str, object], sources: Sequence[IdentitySource]) -> Identity:
    """Resolve the identity of `message`; raises TranslationError when it has none or a bad one."""
    user_id = message.get("userId", MISSING)
    anonymous_id = message.get("anonymousId", MISSING)
    identities: dict[str, object] = {}
    used: list[Path] = []
    for source in sources:
        for path, get in source.lookups:
            value = get(message)
            if value is MISSING or value is None or value == "":
                continue
            if source.email and not is_email(value):
                if path.steps == _USER_ID:
                    continue
                raise TranslationError(
                    ErrorClass.INVALID_IDENTIFIER,
                    f"{source.key} from {path.text} is not an e-mail address: {_short(value)}",
                )
            if type(value) is not str and (
                not isinstance(value, str | int | float) or isinstance(value, bool)
            ):
                raise TranslationError(
                    ErrorClass.INVALID_IDENTIFIER,
                    f"{source.key} from {path.text} must be a string or a number, got {_short(value)}",
                )
            identities[source.key] = value
            used.append(path)
            break
    if not identities and is_empty(user_id) and is_empty(anonymous_id):
        tried = ", ".join(p.text for s in sources for p in s.paths)
        raise TranslationError(
            ErrorClass.MISSING_IDENTIFIER,
            f"message has no userId, no anonymousId and no identity (tried {tried or 'nothing'})",
        )
    return Identity(user_id, anonymous_id, identities, tuple(used))


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else type(value).__name__
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
