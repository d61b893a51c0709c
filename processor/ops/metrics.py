"""Every Prometheus metric, defined once with its labels (SPEC §8).

Labels come from closed sets only: `direction` (inbound/outbound), `action` (a Cordial action
wire name, a Segment call kind, or `-`), `outcome`, `status` (status class `2xx`…`5xx`, or
`timeout`/`connection`), `error_class` (an `ErrorClass`), `reason` (a skip reason), `tier`.
Never a key, a user id or a message. Build one `BridgeMetrics` per process on the default
registry, and a fresh `CollectorRegistry` per test.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

NAMESPACE = "cordial_bridge"

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


def status_class(status: int | None) -> str:
    """`2xx`…`5xx` for a status code, `none` when there was no response."""
    if status is None:
        return "none"
    return f"{status // 100}xx"


class BridgeMetrics:
    """All metric families of the bridge. Only `runtime/` and `sinks/` record into them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = REGISTRY if registry is None else registry
        self.registry = reg
        ns = NAMESPACE
        self.records_consumed = Counter(
            "records_consumed",
            "Records read from a source or retry topic.",
            ["direction", "topic_kind"],
            namespace=ns,
            registry=reg,
        )
        self.records_translated = Counter(
            "records_translated",
            "Records translated, by result.",
            ["direction", "result"],
            namespace=ns,
            registry=reg,
        )
        self.records_sent = Counter(
            "records_sent",
            "Requests or messages accepted by the API.",
            ["direction", "action"],
            namespace=ns,
            registry=reg,
        )
        self.records_retried = Counter(
            "records_retried",
            "Records produced to a retry tier.",
            ["direction", "action", "error_class", "tier"],
            namespace=ns,
            registry=reg,
        )
        self.records_dead_lettered = Counter(
            "records_dead_lettered",
            "Records produced to the dead-letter topic.",
            ["direction", "action", "error_class"],
            namespace=ns,
            registry=reg,
        )
        self.records_blocked = Counter(
            "records_blocked",
            "Records not sent to stop Segment/Cordial recursion.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.records_skipped = Counter(
            "records_skipped",
            "Records not sent on purpose (filtered, consent, no matching action).",
            ["direction", "reason"],
            namespace=ns,
            registry=reg,
        )
        self.records_outcome = Counter(
            "records_outcome",
            "Final outcome of each record (one per record).",
            ["direction", "outcome"],
            namespace=ns,
            registry=reg,
        )
        self.flatten_collisions = Counter(
            "flatten_collisions",
            "Flattened property keys dropped because another key won.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests made to Cordial or Segment, by status class.",
            ["direction", "action", "status"],
            namespace=ns,
            registry=reg,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration.",
            ["direction", "action", "status"],
            namespace=ns,
            registry=reg,
            buckets=HTTP_BUCKETS,
        )
        self.http_in_flight = Gauge(
            "http_in_flight_requests",
            "HTTP requests currently in flight.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.concurrency_limit = Gauge(
            "concurrency_limit",
            "Current adaptive (AIMD) concurrency limit.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.records_in_flight = Gauge(
            "records_in_flight",
            "Records consumed and not yet finished.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.consumer_lag = Gauge(
            "consumer_lag",
            "High watermark minus committed offset, per partition.",
            ["direction", "topic", "partition"],
            namespace=ns,
            registry=reg,
        )
        self.retry_topic_depth = Gauge(
            "retry_topic_depth",
            "Records waiting in a retry tier (high watermark minus committed).",
            ["direction", "tier"],
            namespace=ns,
            registry=reg,
        )
        self.auth_paused = Gauge(
            "auth_paused",
            "1 while a direction is paused because the API rejected its key.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.partitions_paused = Gauge(
            "partitions_paused",
            "Partitions paused for backpressure or retry due times.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
        self.commits = Counter(
            "commits",
            "Offset commits, by result.",
            ["direction", "result"],
            namespace=ns,
            registry=reg,
        )
        self.end_to_end_latency = Histogram(
            "end_to_end_latency_seconds",
            "Broker timestamp of a record to its successful delivery.",
            ["direction"],
            namespace=ns,
            registry=reg,
            buckets=LATENCY_BUCKETS,
        )
        self.replayed = Counter(
            "dlq_replayed",
            "DLQ records replayed to their original topic.",
            ["direction"],
            namespace=ns,
            registry=reg,
        )
