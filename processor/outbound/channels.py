"""Which channel a Cordial record belongs to, and the action → Segment event-name table (SPEC §4.1).

The table is configuration: `OutboundSettings.event_names` is merged over `DEFAULT_EVENT_NAMES`
per channel, so a user can rename one event without restating the rest. An action with no entry
in its channel's table keeps its Cordial name (sms, rest and custom events by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from processor.errors import ConfigError

EMAIL: Final = "email"
MOBILE: Final = "mobile"
SMS: Final = "sms"
REST: Final = "rest"
CUSTOM: Final = "custom"
KNOWN_CHANNELS: Final = (EMAIL, MOBILE, SMS, REST, CUSTOM)

EMAIL_ACTIONS: Final = frozenset({"open", "click", "optout", "bounce"})
MOBILE_PREFIX: Final = "crdl_"

DEFAULT_EVENT_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    EMAIL: {
        "open": "Email Opened",
        "click": "Email Link Clicked",
        "optout": "Unsubscribed",
        "bounce": "Email Bounced",
    },
    MOBILE: {
        "crdl_app_install": "Application Installed",
        "crdl_app_open": "Application Opened",
        "crdl_notification_tap": "Push Notification Tapped",
        "crdl_deep_link_open": "Deep Link Opened",
        "crdl_notification_delivered_in_foreground": "Push Notification Received",
    },
    SMS: {},  # message_sent, click: unchanged
    REST: {},  # message_sent: unchanged
    CUSTOM: {},  # as named in Cordial
}


def is_text(value: object) -> bool:
    """A non-blank string (configuration values are checked at start-up, not trusted)."""
    return isinstance(value, str) and bool(value.strip())


def channel_name(value: object, *, where: str) -> str:
    """A configured channel name, lower-cased like a record's `channel`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: a channel name must be a non-empty string, got {value!r}")
    return value.strip().lower()


def infer_channel(action: str, mcid_present: bool) -> str:
    """The channel of a record without an explicit `channel` (SPEC §4.1)."""
    if action.startswith(MOBILE_PREFIX):
        return MOBILE
    if action in EMAIL_ACTIONS and mcid_present:
        return EMAIL
    return CUSTOM


class EventNames:
    """The compiled per-channel table: defaults with the configured overrides merged over them."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]]) -> None:
        tables: dict[str, dict[str, str]] = {name: dict(table) for name, table in DEFAULT_EVENT_NAMES.items()}
        if not isinstance(overrides, Mapping):
            raise ConfigError("outbound.event_names must be a mapping of channel → {action: event}")
        for raw_channel, table in overrides.items():
            channel = channel_name(raw_channel, where="outbound.event_names")
            if not isinstance(table, Mapping):
                raise ConfigError(f"outbound.event_names.{channel} must be a mapping of action → event name")
            merged = tables.setdefault(channel, {})
            for action, event in table.items():
                if not is_text(action):
                    raise ConfigError(f"outbound.event_names.{channel}: bad action name {action!r}")
                if not is_text(event):
                    raise ConfigError(
                        f"outbound.event_names.{channel}.{action}: the event name must be a non-empty string"
                    )
                merged[action] = event
        self._tables: Mapping[str, Mapping[str, str]] = MappingProxyType(
            {name: MappingProxyType(table) for name, table in tables.items()}
        )

    def event_for(self, channel: str, action: str) -> str:
        """The Segment event name; an unmapped action (or an unknown channel) keeps its Cordial name."""
        table = self._tables.get(channel)
        if table is None:
            return action
        return table.get(action, action)

    def table(self, channel: str) -> Mapping[str, str]:
        """The merged table of one channel (empty for a channel with no entries)."""
        return self._tables.get(channel, MappingProxyType({}))
