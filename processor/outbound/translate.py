"""Cordial event record → Segment `track` message (SPEC §4): the only entry point of the direction.

Decisions, in order (the first that applies ends the record):

1. not a JSON object → `Rejected(invalid_record)`;
2. origin is Segment (`origin`, `source`, `properties.origin`, `properties.source`) →
   `Skipped("blocked_recursion")`, before any identity or size check;
3. no usable `action` → `Rejected(invalid_record / validation)`;
4. channel (explicit `channel` wins, else inferred) and event name; a channel filter that
   excludes the event → `Skipped("filtered")`;
5. neither `cID` nor the Segment id attribute → `Rejected(missing_identifier)`;
6. `time` that does not parse → `Rejected(validation)`; nesting over 64 levels or non-JSON
   values → `Rejected(invalid_record)`;
7. the message serialised over `message_max_bytes` → `Rejected(message_too_large)`.

Semantic keys and collisions: a top-level record key beats a semantic key of the same name,
which beats a flattened key; the losers are listed in `OutboundTranslation.dropped_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from processor import PACKAGE_NAME, __version__
from processor.config.settings import OutboundSettings
from processor.errors import ConfigError, ErrorClass
from processor.outbound.channels import EMAIL, EventNames, infer_channel, is_text
from processor.outbound.filters import BLOCKED_RECURSION, FILTERED, ChannelFilters, is_from_segment
from processor.outbound.flatten import MovedPaths, Path, flatten_parts
from processor.outbound.identity import (
    MESSAGE_ID_PREFIX,
    cordial_event_id,
    find_user_id,
    message_id,
    normalise_timestamp,
    user_id_paths,
)
from processor.outbound.messages import OutboundTranslation
from processor.outbound.record import TranslationError, parse_record, require_object
from processor.outbound.semantic import MOVED_PATHS, semantic_keys
from processor.outcomes import Rejected, Skipped

TIME_PATH: Final[Path] = ("time",)
INTEGRATIONS: Final[Mapping[str, bool]] = {"Cordial": False, "Cordial (Actions)": False}
"""Segment must never route these events back to a Cordial destination (seed `003_…txt`)."""

_EMAIL_MOVED: Final = MovedPaths.of((TIME_PATH, *MOVED_PATHS))
_OTHER_MOVED: Final = MovedPaths.of((TIME_PATH,))
SOURCE: Final = "cordial"
"""`context.source` of every message (built inline: each message gets its own dicts)."""


class OutboundTranslator:
    """Compiled outbound settings; `translate()` is pure and never raises on bad input."""

    def __init__(self, settings: OutboundSettings) -> None:
        self.settings = settings
        self._event_names = EventNames(settings.event_names)
        self._filters = ChannelFilters(settings.filters)
        key = settings.segment_id_key
        if not is_text(key):
            raise ConfigError("outbound.segment_id_key must be a non-empty string")
        self._user_id_paths = user_id_paths(key)
        if settings.message_max_bytes <= 0:
            raise ConfigError("outbound.message_max_bytes must be positive")
        self._max_bytes = settings.message_max_bytes

    def translate(self, record: object) -> OutboundTranslation | Skipped | Rejected:
        """One record → one message, or why not. Never raises on any input."""
        try:
            return self._translate(record)
        except TranslationError as exc:
            return Rejected(exc.error_class, exc.message)

    def _translate(self, value: object) -> OutboundTranslation | Skipped:
        raw = require_object(value)
        if is_from_segment(raw):
            return Skipped(BLOCKED_RECURSION)
        record = parse_record(raw)
        mcid = raw.get("mcID")
        channel = record.channel or infer_channel(record.action, mcid is not None and mcid != "")
        event = self._event_names.event_for(channel, record.action)
        if not self._filters.allows(channel, record.action, event):
            return Skipped(FILTERED)

        user_id = find_user_id(raw, self._user_id_paths)
        if record.cid is None and user_id is None:
            raise TranslationError(
                ErrorClass.MISSING_IDENTIFIER,
                f"record has neither `cID` nor the Segment id attribute `{self.settings.segment_id_key}`",
            )
        timestamp = normalise_timestamp(raw.get("time"))

        is_email = channel == EMAIL
        semantic = semantic_keys(raw) if is_email else {}
        moved = _EMAIL_MOVED if is_email else _OTHER_MOVED
        properties, dropped, _ = flatten_parts(raw, moved=moved, reserved=semantic.keys())
        if semantic:
            for name, semantic_value in semantic.items():
                if name in properties:  # only a top-level record key can hold the name: it wins
                    dropped.append(name)
                else:
                    properties[name] = semantic_value

        cordial_id = cordial_event_id(raw)
        msg_id = message_id(raw) if cordial_id is None else MESSAGE_ID_PREFIX + cordial_id
        message: dict[str, object] = {"type": "track", "event": event}
        if user_id is not None:
            message["userId"] = user_id
        if record.cid is not None:
            message["anonymousId"] = record.cid
        if timestamp is not None:
            message["timestamp"] = timestamp
        message["messageId"] = msg_id
        message["properties"] = properties
        message["context"] = {"library": {"name": PACKAGE_NAME, "version": __version__}, "source": SOURCE}
        message["integrations"] = dict(INTEGRATIONS)

        try:
            encoded = orjson.dumps(message)
        except orjson.JSONEncodeError as exc:  # pragma: no cover - flatten already checks the values
            raise TranslationError(ErrorClass.INVALID_RECORD, f"record cannot be encoded: {exc}") from exc
        size = len(encoded)
        limit = self._max_bytes
        if size > limit:
            raise TranslationError(
                ErrorClass.MESSAGE_TOO_LARGE, f"message is {size} bytes, over the {limit}-byte limit"
            )
        return OutboundTranslation(
            message=message,
            event_id=msg_id if cordial_id is None else cordial_id,
            channel=channel,
            dropped_keys=tuple(dropped),
            encoded=encoded,
        )
