"""Which records are not sent at all: recursion blocking and per-channel event filters (SPEC §4.3).

Both decisions are `Skipped` outcomes, not errors: the record is done and its offset may commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.config.settings import ChannelFilter
from processor.errors import ConfigError
from processor.outbound.channels import channel_name, is_text
from processor.outbound.flatten import Path

BLOCKED_RECURSION: Final = "blocked_recursion"
FILTERED: Final = "filtered"

ORIGIN_KEYS: Final = ("origin", "source")
ORIGIN_PARENT: Final = "properties"
ORIGIN_PATHS: Final[tuple[Path, ...]] = (
    *((key,) for key in ORIGIN_KEYS),
    *((ORIGIN_PARENT, key) for key in ORIGIN_KEYS),
)
"""Where a record says where it came from: `origin`, `source`, `properties.origin`, `properties.source`."""
SEGMENT_ORIGIN: Final = "segment"


def _says_segment(value: object) -> bool:
    # Checked inline for None first: most records carry no origin, and a call costs more.
    return isinstance(value, str) and value.strip().casefold() == SEGMENT_ORIGIN


def is_from_segment(record: Mapping[str, object]) -> bool:
    """True when the record says it came from Segment (at any of `ORIGIN_PATHS`); compared
    case-insensitively and trimmed, because sending such a record back would loop it between
    the two systems."""
    origin, source = ORIGIN_KEYS
    parent = record.get(ORIGIN_PARENT)
    # Plain dicts (what decoders give) and None first: the Mapping ABC check is slow.
    if type(parent) is not dict and (parent is None or not isinstance(parent, Mapping)):
        parent = _EMPTY
    for value in (record.get(origin), record.get(source), parent.get(origin), parent.get(source)):
        if value is not None and _says_segment(value):
            return True
    return False


_EMPTY: Final[Mapping[str, object]] = {}


class ChannelFilters:
    """Compiled per-channel filters; a channel without an entry sends everything.

    An event matches a list entry by its Segment event name (after mapping) or by its Cordial
    action name, so `["open"]` and `["Email Opened"]` both name the e-mail open event.
    """

    def __init__(self, filters: Mapping[str, ChannelFilter]) -> None:
        if not isinstance(filters, Mapping):
            raise ConfigError("outbound.filters must be a mapping of channel → filter")
        compiled: dict[str, tuple[str, frozenset[str]]] = {}
        for raw_channel, channel_filter in filters.items():
            channel = channel_name(raw_channel, where="outbound.filters")
            if not isinstance(channel_filter, ChannelFilter):
                raise ConfigError(f"outbound.filters.{channel} must be a filter with `mode` and `events`")
            mode = channel_filter.mode
            if mode not in ("all", "allow", "block"):
                raise ConfigError(
                    f"outbound.filters.{channel}.mode must be all, allow or block, got {mode!r}"
                )
            events: object = channel_filter.events
            if not isinstance(events, tuple | list) or not all(is_text(e) for e in events):
                raise ConfigError(f"outbound.filters.{channel}.events must be a list of event names")
            if mode == "all" and events:
                raise ConfigError(
                    f"outbound.filters.{channel}: `events` is given but mode is `all` (use allow or block)"
                )
            compiled[channel] = (mode, frozenset(events))
        self._filters = compiled

    def allows(self, channel: str, action: str, event: str) -> bool:
        """Whether an event of this channel is sent."""
        entry = self._filters.get(channel)
        if entry is None:
            return True
        mode, events = entry
        listed = event in events or action in events
        if mode == "allow":
            return listed
        if mode == "block":
            return not listed
        return True
