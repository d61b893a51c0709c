"""The worker config the benchmarks run with: the SPEC defaults, except what a local run needs.

Changed from the defaults, and why: loopback endpoints and broker; short consumer-group timings
(Tansu holds a join for the rebalance timeout); a short shutdown deadline; the HTTP concurrency
cap is a bench option (default 128, twice the product default: at 20 ms per request, 64 slots
cap a worker near 2,800 requests/s, about the inbound target itself). Everything else — in-flight cap,
commit policy, Segment batching and linger, poll timeout, log level `info` — is what a user gets.

Latency-oriented `kafka.client` consumer settings were tried and none is applied, because none
lowers the processor's tail on Tansu (inbound, ~800 events/s, 8 s, two rounds on a busy 2-core
machine; p50/p99 ms): the product's `fetch.wait.max.ms` 100: 169/359 and 125/228; 10: 1,095/3,314
and 178/608 (the bare floor drops to ~8/30-90, the worker gets worse); 50: 131/246; librdkafka's
500: 423/974. `fetch.min.bytes`, `fetch.max.bytes` and `queued.min.messages` left the floor
unchanged. What does lower it is `worker.poll_timeout_s` 0.01 (49/107 and 64/182): the worker
asks `consume(500, poll_timeout_s)`, which waits the full timeout unless 500 records are queued.
That is a product default, so it stays 0.1 here; the run's `floor_worker_poll` figures show its cost.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

GROUP_TIMINGS = {
    "max.poll.interval.ms": "10000",
    "session.timeout.ms": "6000",
    "heartbeat.interval.ms": "500",
}


def bench_config(
    *,
    bootstrap: str,
    cordial_url: str,
    segment_url: str,
    inbound_topic: str,
    outbound_topic: str,
    group: str,
    partitions: int,
    concurrency: int,
    log_level: str,
) -> dict[str, object]:
    http = {"max_concurrency": concurrency}
    return {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": group,
            "partitions": partitions,
            "client": dict(GROUP_TIMINGS),
        },
        "topics": {"segment_inbound": {"name": inbound_topic}, "cordial_outbound": {"name": outbound_topic}},
        "cordial": {"endpoint": cordial_url, "http": http},
        "segment": {"endpoint": segment_url, "http": http},
        "worker": {"shutdown_deadline_s": 10.0},
        "ops": {"metrics_host": "127.0.0.1", "metrics_port": 0, "log_level": log_level, "log_format": "json"},
    }


def write(path: Path, config: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=30)
