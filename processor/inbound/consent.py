"""Consent and subscription policy (SPEC §3.3, seed 004). Pure: message + settings → decision.

How a message is decided, when `consent.enabled`:

1. **Scope.** The policy applies to every message type (`message_types: null`), so a contact held
   back on identify does not reach Cordial through its track, page or group events either. Set
   `message_types` to limit it (e.g. `[identify]`).
2. **Region.** Each of `country_paths` is read in order; the first value that names a recognised
   country (ISO alpha-2/alpha-3/numeric code or English name, any case, see `countries.py`) decides:
   an EU member state (or one of `extra_eu_countries`) is `eu`, any other country `non_eu`. No
   recognised country → `unknown_country`: `strictest` (default) takes whichever of the EU and
   non-EU policies is stricter, the EU one on a tie, so an unplaced contact is never treated more
   loosely than an EU resident would be; `eu` / `non_eu` pick one.
3. **Policy.** The region's `eu:`/`non_eu:` block, else the top-level `mode`/`auto_subscribe` when
   `region` covers it, else none: the message passes untouched.
4. **Opt-in status** from `opt_in_path`: *true* for `true`, `1` and the strings "true", "yes", "y",
   "1", "on", "opted_in", "subscribed" (any case, blanks trimmed); *absent* for a missing key, `null`
   or a blank string; *false* for everything else (`false`, `0`, "no", "off", "maybe", an object…):
   consent is never guessed.
   `$.traits.…` paths read the message's `traits` for identify and fall back to `context.traits`;
   for every other type they read `context.traits` only (a group's `traits` describe the group).
5. **Mode.** `opted_in_only`: only status true passes. `opted_in_or_null`: true or absent passes
   (absent = opted in by entering their details, as seed 004 puts it). `all`: everyone passes and
   the status is written to `opt_in_attribute` (left out when absent, so an event without the field
   never erases a stored status).
6. **Subscription.** With `auto_subscribe`, a contact that is opted in (true; or absent under
   `opted_in_or_null`) gets `subscribe=True`: the translator adds
   `channels.email.subscribeStatus: "subscribed"` to upsertContact's attributes.

A held-back message is `ConsentDecision(allowed=False)`; the translator reports it as skipped with
reason `consent`, never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

from processor.config.settings import ConsentPolicy, ConsentSettings
from processor.inbound.countries import country_code, eu_codes

SUBSCRIBE_STATUS_KEY = "channels.email.subscribeStatus"
SUBSCRIBED: Final = "subscribed"

Region = Literal["eu", "non_eu"]
OptIn = bool | None

TRUE_STRINGS: Final = frozenset({"true", "yes", "y", "1", "on", "opted_in", "subscribed"})

_STRICTNESS: Final = {"opted_in_only": 2, "opted_in_or_null": 1, "all": 0}
_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """`allowed=False` → the message is skipped with reason `consent` (not an error).

    `attributes` are added to `upsertContact.attributes` (the opt-in status in mode `all`);
    `subscribe` adds `channels.email.subscribeStatus: "subscribed"` to the same attributes.
    """

    allowed: bool
    attributes: Mapping[str, object] = field(default_factory=dict)
    subscribe: bool = False


ALLOW = ConsentDecision(allowed=True)
HOLD_BACK = ConsentDecision(allowed=False)


def decide(message: Mapping[str, object], settings: ConsentSettings) -> ConsentDecision:
    """Apply the policy to one Segment message (see the module docstring for the rules)."""
    if not settings.enabled:
        return ALLOW
    kind = message.get("type")
    if settings.message_types is not None and kind not in settings.message_types:
        return ALLOW
    policy = policy_for(region_of(message, settings), settings)
    if policy is None:
        return ALLOW
    status = opt_in_status(message, settings.opt_in_path)
    if policy.mode == "opted_in_only":
        allowed = status is True
    elif policy.mode == "opted_in_or_null":
        allowed = status is not False
    else:
        allowed = True
    if not allowed:
        return HOLD_BACK
    attributes: dict[str, object] = {}
    if policy.mode == "all" and settings.opt_in_attribute and status is not None:
        attributes[settings.opt_in_attribute] = status
    opted_in = status is True or (status is None and policy.mode == "opted_in_or_null")
    return ConsentDecision(allowed=True, attributes=attributes, subscribe=policy.auto_subscribe and opted_in)


def region_of(message: Mapping[str, object], settings: ConsentSettings) -> Region | None:
    """`eu`/`non_eu` from the first recognised country in `country_paths`; None when there is none."""
    for path in settings.country_paths:
        code = country_code(read_path(message, path))
        if code is not None:
            return "eu" if code in _eu(settings.extra_eu_countries) else "non_eu"
    return None


def policy_for(region: Region | None, settings: ConsentSettings) -> ConsentPolicy | None:
    """The policy governing `region` (None = unknown country); None = the message passes untouched."""
    if region is None:
        if settings.unknown_country != "strictest":
            return _region_policy(settings.unknown_country, settings)
        return _stricter(_region_policy("eu", settings), _region_policy("non_eu", settings))
    return _region_policy(region, settings)


def opt_in_status(message: Mapping[str, object], path: str) -> OptIn:
    """True / False / None (absent) from the opt-in field; unrecognised values are False."""
    value = read_path(message, path)
    if isinstance(value, str):
        value = value.strip().casefold()
    if value is _MISSING or value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value in TRUE_STRINGS
    if isinstance(value, int | float):
        return value == 1
    return False


def read_path(message: Mapping[str, object], path: str) -> object:
    """The value at `$.a.b.c` (list items by index), `_MISSING` when absent.

    `$.traits.…` is the user's traits: top-level `traits` then `context.traits` for identify,
    `context.traits` alone for other message types.
    """
    parts = path.removeprefix("$").lstrip(".").split(".")
    if parts[0] == "traits":
        roots: tuple[tuple[str, ...], ...] = (("context", "traits"),)
        if message.get("type") == "identify":
            roots = (("traits",), ("context", "traits"))
        for root in roots:
            value = _walk(message, [*root, *parts[1:]])
            if value is not _MISSING and value is not None:
                return value
        return _MISSING
    return _walk(message, parts)


def _walk(node: object, parts: list[str]) -> object:
    for part in parts:
        if isinstance(node, Mapping):
            node = node.get(part, _MISSING)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _region_policy(region: Region, settings: ConsentSettings) -> ConsentPolicy | None:
    own = settings.eu if region == "eu" else settings.non_eu
    if own is not None:
        return own
    if settings.region in ("both", region):
        return ConsentPolicy(mode=settings.mode, auto_subscribe=settings.auto_subscribe)
    return None


def _stricter(eu: ConsentPolicy | None, non_eu: ConsentPolicy | None) -> ConsentPolicy | None:
    """The stricter of two policies: holds back more, then subscribes less; EU on a tie."""
    if eu is None or non_eu is None:
        return eu if non_eu is None else non_eu
    return non_eu if _rank(non_eu) > _rank(eu) else eu


def _rank(policy: ConsentPolicy) -> tuple[int, int]:
    return (_STRICTNESS[policy.mode], 0 if policy.auto_subscribe else 1)


@lru_cache(maxsize=16)
def _eu(extra: tuple[str, ...]) -> frozenset[str]:
    return eu_codes(extra)
