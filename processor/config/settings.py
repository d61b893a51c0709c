"""Every setting, as frozen dataclasses, with the defaults SPEC.md states.

`config/loader.py` builds a `Settings` from YAML, the environment and secret files; each
component receives only its own part (`CordialSettings`, `RetrySettings`, …). Field names
are the YAML keys. A field typed `object` holds a raw YAML value that its owner interprets
(field-mapping expressions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from processor.config.secrets import Secret

ValueFormat = Literal["json", "avro"]
ContactsErrorHandling = Literal["strict", "ignoreMissingAttributes"]
OptInMode = Literal["opted_in_only", "opted_in_or_null", "all"]
ConsentRegion = Literal["eu", "non_eu", "both"]
ConsentUnknownCountry = Literal["strictest", "eu", "non_eu"]
FilterMode = Literal["all", "allow", "block"]
Direction = Literal["inbound", "outbound"]

CORDIAL_DEFAULT_ENDPOINT = "https://integrations-ingest-svc.usw1.cordial.com"
CORDIAL_DEFAULT_ADMIN_ENDPOINT = "https://admin.cordial.io"
SEGMENT_DEFAULT_ENDPOINT = "https://api.segment.io"


# --------------------------------------------------------------------------- Kafka, topics


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "cordial-bridge"
    """Consumer group prefix; each direction and retry tier appends its own suffix."""
    partitions: int = 6
    replication_factor: int = 1
    client: Mapping[str, str] = field(default_factory=dict)
    """librdkafka properties passed through verbatim (e.g. security.protocol, sasl.*)."""


@dataclass(frozen=True, slots=True)
class TopicSettings:
    name: str
    value_format: ValueFormat = "json"
    schema_file: str | None = None
    """Pinned Avro writer schema (.avsc): used to decode when no schema registry is configured, and
    the schema this bridge writes with (registered under `<topic>-value` when a registry is set)."""
    schema_id: int | None = None
    """With a pinned schema: the schema id records must carry (None = accept any id)."""


@dataclass(frozen=True, slots=True)
class SchemaRegistrySettings:
    url: str | None = None
    """`http(s)://…` or `mock://name` (tests)."""


@dataclass(frozen=True, slots=True)
class TopicsSettings:
    segment_inbound: TopicSettings = field(default_factory=lambda: TopicSettings("segment-inbound"))
    cordial_outbound: TopicSettings = field(default_factory=lambda: TopicSettings("cordial-outbound"))
    schema_registry: SchemaRegistrySettings = field(default_factory=SchemaRegistrySettings)


# --------------------------------------------------------------------------- HTTP edges


@dataclass(frozen=True, slots=True)
class HttpSettings:
    timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    max_concurrency: int = 64
    """Upper bound of the AIMD concurrency limit for one direction."""
    min_concurrency: int = 1
    in_process_attempts: int = 3
    """Attempts made in-process (with jittered backoff) before a record goes to a retry topic."""
    backoff_base_s: float = 0.2
    backoff_max_s: float = 5.0


@dataclass(frozen=True, slots=True)
class CordialSettings:
    endpoint: str = CORDIAL_DEFAULT_ENDPOINT
    admin_endpoint: str = CORDIAL_DEFAULT_ADMIN_ENDPOINT
    segment_id_key: str = "segment_id"
    """The Cordial contact attribute that stores the Segment user id."""
    api_key_env: str = "CORDIAL_API_KEY"
    api_key_file: str | None = None
    api_key: Secret | None = None
    """Resolved by the loader from `api_key_file` or `api_key_env`; never read from YAML."""
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True, slots=True)
class SegmentSettings:
    endpoint: str = SEGMENT_DEFAULT_ENDPOINT
    write_key_env: str = "SEGMENT_WRITE_KEY"
    write_key_file: str | None = None
    write_key: Secret | None = None
    """Resolved by the loader from `write_key_file` or `write_key_env`; never read from YAML."""
    batch_max_messages: int = 2500
    batch_max_bytes: int = 475_000
    message_max_bytes: int = 32_000
    linger_ms: int = 50
    gzip: bool = False
    http: HttpSettings = field(default_factory=HttpSettings)


# --------------------------------------------------------------------------- inbound


@dataclass(frozen=True, slots=True)
class ActionSettings:
    enabled: bool | None = None
    """None = the action's default (enabled, except removeContactFromList which has no trigger)."""
    trigger: str | None = None
    """Segment subscription syntax; None = the action's default trigger."""
    fields: Mapping[str, object] = field(default_factory=dict)
    """Field-mapping overrides: a `$.path`, a list of fall-backs, `{"@literal": v}` or a literal."""


@dataclass(frozen=True, slots=True)
class AttributeMapping:
    segment_field: str
    cordial_key: str


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """The opt-in rule for one region (seed 004's three choices, plus automatic subscription)."""

    mode: OptInMode = "all"
    """`opted_in_only`: opt-in true; `opted_in_or_null`: true or absent; `all`: everyone, status written."""
    auto_subscribe: bool = False
    """An opted-in contact's upsert carries `channels.email.subscribeStatus: "subscribed"`."""


@dataclass(frozen=True, slots=True)
class ConsentSettings:
    """Who may reach Cordial and whether they are subscribed (SPEC §3.3; see inbound/consent.py).

    A region's policy is its own `eu:`/`non_eu:` block when given, else the top-level
    `mode`/`auto_subscribe` when `region` covers it; a region with neither passes untouched.
    """

    enabled: bool = False
    region: ConsentRegion = "both"
    """Regions the top-level `mode`/`auto_subscribe` govern (`eu`, `non_eu` or `both`)."""
    mode: OptInMode = "all"
    auto_subscribe: bool = False
    eu: ConsentPolicy | None = None
    """Policy for contacts in an EU member state; overrides the top-level policy."""
    non_eu: ConsentPolicy | None = None
    """Policy for contacts in any other recognised country; overrides the top-level policy."""
    country_paths: tuple[str, ...] = (
        "$.context.location.country",
        "$.traits.address.country",
        "$.traits.country",
    )
    """Tried in order; the first value that names a recognised country decides the region."""
    unknown_country: ConsentUnknownCountry = "strictest"
    """Region of a contact whose country is absent or unrecognised: the stricter policy, or `eu`/`non_eu`."""
    extra_eu_countries: tuple[str, ...] = ()
    """Countries treated as EU besides the member states (e.g. the EEA: IS, LI, NO; or GB, CH)."""
    opt_in_path: str = "$.traits.email_opt_in"
    """`$.traits.…` paths read `context.traits` for messages other than identify."""
    opt_in_attribute: str | None = "email_opt_in"
    """Contact attribute the status is written to in mode `all`; null = not written."""
    message_types: tuple[str, ...] | None = None
    """Message types the policy applies to; null = every type (a held-back contact's events stay out)."""


DEFAULT_IDENTITIES: Mapping[str, tuple[str, ...]] = {
    "channels.email.address": ("$.traits.email", "$.context.traits.email", "$.properties.email", "$.userId"),
}


@dataclass(frozen=True, slots=True)
class InboundSettings:
    segment_id_key: str = "segment_id"
    """Copied from `cordial.segment_id_key` by the loader."""
    actions: Mapping[str, ActionSettings] = field(default_factory=dict)
    """Keyed by wire name (`upsertContact`, …)."""
    identities: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_IDENTITIES))
    """Ordered: Cordial identifier path → Segment paths tried in order."""
    attribute_mapping: tuple[AttributeMapping, ...] = ()
    ignore_fields: tuple[str, ...] = ()
    contacts_error_handling: ContactsErrorHandling = "strict"
    known_attributes: tuple[str, ...] | None = None
    """With ignoreMissingAttributes: attributes Cordial knows; others are dropped. None = keep all."""
    classic_file: str | None = None
    """A Cordial integration JSON file (SPEC §3.4) supplying attribute_mapping/ignore_fields."""
    consent: ConsentSettings = field(default_factory=ConsentSettings)
    max_value_bytes: int = 1_048_576


# --------------------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    mode: FilterMode = "all"
    events: tuple[str, ...] = ()
    """Segment event names (after mapping) allowed or blocked."""


@dataclass(frozen=True, slots=True)
class OutboundSettings:
    segment_id_key: str = "segment_id"
    """Copied from `cordial.segment_id_key` by the loader."""
    event_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per channel, Cordial action → Segment event; merged over the SPEC §4.1 defaults."""
    filters: Mapping[str, ChannelFilter] = field(default_factory=dict)
    """Per channel (email, mobile, sms, rest, custom)."""
    message_max_bytes: int = 32_000
    max_value_bytes: int = 1_048_576


# --------------------------------------------------------------------------- runtime


@dataclass(frozen=True, slots=True)
class RetrySettings:
    tiers: tuple[str, ...] = ("5s", "1m", "10m", "1h")
    """Delay per retry tier; also the topic suffix (`<topic>.retry.5s`)."""
    max_attempts: int = 8
    """Total delivery attempts across tiers (counting in-process retries as one) before the DLQ."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_in_flight: int = 5000
    """Records in flight per direction; above it the source partitions pause (backpressure)."""
    resume_below: float = 0.5
    """Resume paused partitions when in-flight falls below this fraction of max_in_flight."""
    commit_interval_s: float = 1.0
    commit_every: int = 5000
    shutdown_deadline_s: float = 30.0
    auth_probe_initial_s: float = 1.0
    auth_probe_max_s: float = 60.0
    poll_timeout_s: float = 0.1
    dlq_storm_threshold: int = 1000
    """Consecutive permanent failures that flip readiness and alert instead of quietly filling the DLQ."""


@dataclass(frozen=True, slots=True)
class OpsSettings:
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 9464
    log_level: str = "info"
    log_format: Literal["auto", "json", "console"] = "auto"


@dataclass(frozen=True, slots=True)
class Settings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: TopicsSettings = field(default_factory=TopicsSettings)
    cordial: CordialSettings = field(default_factory=CordialSettings)
    segment: SegmentSettings = field(default_factory=SegmentSettings)
    inbound: InboundSettings = field(default_factory=InboundSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    retry: RetrySettings = field(default_factory=RetrySettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
