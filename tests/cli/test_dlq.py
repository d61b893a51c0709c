"""`cordial-bridge dlq stats|inspect|replay` against the real broker fixture.

DLQ records are built here with `failure_headers`, as the worker writes them, and produced
straight to `<topic>.dlq`.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from processor.cli import cli
from processor.cli import dlq as dlq_cli
from processor.runtime import headers as h

HOUR_MS = 3_600_000


@dataclass
class DlqEnv:
    config: Path
    inbound: str
    inbound_dlq: str
    outbound: str
    outbound_dlq: str
    produce: Callable[..., None]
    read: Callable[[str], list[Any]]


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def env(kafka_broker, topic_factory, producer_factory, consumer_factory, unique_name, tmp_path) -> DlqEnv:
    inbound = topic_factory("segment-inbound", partitions=3)
    outbound = topic_factory("cordial-outbound", partitions=2)
    inbound_dlq = kafka_broker.create_topic(f"{inbound}.dlq", 2)
    outbound_dlq = kafka_broker.create_topic(f"{outbound}.dlq", 1)
    config = tmp_path / "bridge.yaml"
    config.write_text(
        f"""
kafka:
  bootstrap_servers: "{kafka_broker.bootstrap_servers}"
  group_id: "{unique_name("bridge")}"
topics:
  segment_inbound:
    name: "{inbound}"
  cordial_outbound:
    name: "{outbound}"
"""
    )
    producer = producer_factory()

    def produce(
        dlq: str,
        *,
        key: bytes | None,
        value: bytes,
        error_class: str = "http_4xx",
        status: int | None = 400,
        action: str | None = "upsertContact",
        timestamp_ms: int | None = None,
        original_topic: str | None = None,
        original_partition: int = 1,
        original_offset: int = 7,
        dlq_partition: int = 0,
        extra_headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        ts = _now_ms() if timestamp_ms is None else timestamp_ms
        headers = h.failure_headers(
            original_topic=original_topic or dlq.removesuffix(".dlq"),
            original_partition=original_partition,
            original_offset=original_offset,
            original_timestamp_ms=ts - 1000,
            attempt=1,
            first_failure_at_ms=ts - 1000,
            direction="inbound" if dlq == inbound_dlq else "outbound",
            failure=h.FailureInfo(error_class=error_class, message="it failed", status=status, action=action),
        ) + (extra_headers or [])
        producer.produce(dlq, key=key, value=value, headers=headers, timestamp=ts, partition=dlq_partition)
        producer.flush(10)

    def read(topic: str) -> list[Any]:
        """Every record of `topic`, read with assign() to the end of each partition."""
        consumer = consumer_factory(**{"enable.partition.eof": True})
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        remaining, records = set(partitions), []
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                continue
            records.append(message)
        consumer.close()
        assert not remaining, f"did not reach the end of {topic}"
        return records

    return DlqEnv(config, inbound, inbound_dlq, outbound, outbound_dlq, produce, read)


def _run(env: DlqEnv, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, ["dlq", args[0], "--config", str(env.config), *args[1:]])
    assert result.exit_code == expect, result.output
    return result.stdout


def _json(env: DlqEnv, *args: str) -> Any:
    return json.loads(_run(env, *args, "--format", "json"))


def _fill_inbound(env: DlqEnv) -> None:
    now = _now_ms()
    env.produce(env.inbound_dlq, key=b"u1", value=b'{"n": 1}', timestamp_ms=now - 10 * 60_000)
    env.produce(
        env.inbound_dlq,
        key=b"u2",
        value=b'{"n": 2}',
        error_class="http_5xx",
        status=503,
        timestamp_ms=now - 2 * HOUR_MS,
        dlq_partition=1,
    )
    env.produce(
        env.inbound_dlq,
        key=b"u3",
        value=b"\xff\xfenot json",
        error_class="invalid_json",
        status=None,
        action=None,
        timestamp_ms=now - 3 * 24 * HOUR_MS,
    )
    env.produce(
        env.inbound_dlq,
        key=b"u1",
        value=b'{"n": 4}',
        error_class="validation",
        status=None,
        action="upsertOrder",
        timestamp_ms=now - 30 * 24 * HOUR_MS,
        dlq_partition=1,
    )


@pytest.mark.kafka
class TestStats:
    def test_counts_by_class_action_status_and_age(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        env.produce(env.outbound_dlq, key=b"c1", value=b"{}", error_class="message_too_large", action=None)
        inbound, outbound = _json(env, "stats")
        assert inbound["topic"] == env.inbound_dlq
        assert inbound["total"] == 4
        assert inbound["replay_pending"] == 4
        assert inbound["by_error_class"] == {"http_4xx": 1, "http_5xx": 1, "invalid_json": 1, "validation": 1}
        assert inbound["by_action"] == {"upsertContact": 2, "none": 1, "upsertOrder": 1}
        assert inbound["by_status"] == {"400": 1, "503": 1, "none": 2}
        assert inbound["by_age"] == {"<1h": 1, "<1d": 1, "<7d": 1, "older": 1}
        assert outbound["total"] == 1
        assert outbound["by_error_class"] == {"message_too_large": 1}

    def test_direction_and_filters(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        (only,) = _json(env, "stats", "--direction", "inbound", "--status", "none")
        assert only["total"] == 2
        assert only["by_error_class"] == {"invalid_json": 1, "validation": 1}

    def test_empty_dlq_counts_zero_and_text_output(self, env: DlqEnv) -> None:
        text = _run(env, "stats", "--direction", "outbound")
        assert f"{env.outbound_dlq}: 0 records" in text

    def test_missing_dlq_topic_counts_zero(self, env: DlqEnv, unique_name) -> None:
        """A DLQ that was never created is empty, not an error (and is not created by looking)."""
        missing = unique_name("never-created")
        env.config.write_text(env.config.read_text().replace(env.outbound, missing))
        (stats,) = _json(env, "stats", "--direction", "outbound")
        assert (stats["topic"], stats["total"]) == (f"{missing}.dlq", 0)
        (replayed,) = _json(env, "replay", "--direction", "outbound")
        assert replayed["scanned"] == 0

    def test_bad_since_is_a_usage_error(self, env: DlqEnv) -> None:
        result = CliRunner().invoke(
            cli, ["dlq", "stats", "--config", str(env.config), "--since", "yesterday"]
        )
        assert result.exit_code == 2
        assert "not a time" in result.output


@pytest.mark.kafka
class TestInspect:
    def _records(self, env: DlqEnv, *args: str) -> list[dict[str, Any]]:
        out = _run(env, "inspect", "--direction", "inbound", "--format", "json", *args)
        return [json.loads(line) for line in out.splitlines()]

    def test_shows_headers_and_decoded_values(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        records = self._records(env)
        assert len(records) == 4
        for record in records:
            assert record["headers"][h.ORIGINAL_TOPIC] == env.inbound
            assert record["headers"][h.ERROR_MESSAGE] == "it failed"
        (undecodable,) = [r for r in records if r["value_format"] == "base64"]
        assert (undecodable["key"], undecodable["value"]) == ("u3", "//5ub3QganNvbg==")
        decoded = sorted((r["key"], r["value"]["n"]) for r in records if r["value_format"] == "json")
        assert decoded == [("u1", 1), ("u1", 4), ("u2", 2)]

    def test_filters_and_limit(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        assert [r["value"]["n"] for r in self._records(env, "--error-class", "http_5xx")] == [2]
        assert [r["value"]["n"] for r in self._records(env, "--status", "4xx")] == [1]
        assert sorted(r["value"]["n"] for r in self._records(env, "--key", "u1")) == [1, 4]
        assert [r["value"]["n"] for r in self._records(env, "--action", "upsertOrder")] == [4]
        assert sorted(r["key"] for r in self._records(env, "--since", "1d")) == ["u1", "u2"]
        assert [r["key"] for r in self._records(env, "--until", "7d")] == ["u1"]
        assert len(self._records(env, "--limit", "2")) == 2

    def test_text_format_pretty_prints(self, env: DlqEnv) -> None:
        env.produce(env.inbound_dlq, key=b"u9", value=b'{"type": "identify", "userId": "u9"}')
        out = _run(env, "inspect", "--direction", "inbound")
        assert f"{env.inbound_dlq}:0:0" in out
        assert f"{h.ERROR_CLASS}: http_4xx" in out
        assert '"userId": "u9"' in out


@pytest.mark.kafka
class TestReplay:
    def test_round_trip_preserves_key_value_partition_and_marks_cb_replayed(self, env: DlqEnv) -> None:
        env.produce(env.inbound_dlq, key=b"u1", value=b'{"n": 1}', original_partition=2, dlq_partition=1)
        env.produce(
            env.inbound_dlq,
            key=b"u2",
            value=b'{"n": 2}',
            original_partition=0,
            extra_headers=[("traceparent", b"00-abc-01")],
        )
        (result,) = _json(env, "replay", "--direction", "inbound")
        assert (result["replayed"], result["scanned"]) == (2, 2)
        assert result["committed"] == {"0": 1, "1": 1}
        landed = {m.key(): m for m in env.read(env.inbound)}
        assert set(landed) == {b"u1", b"u2"}
        assert landed[b"u1"].value() == b'{"n": 1}'
        assert landed[b"u1"].partition() == 2
        assert dict(landed[b"u1"].headers()) == {h.REPLAYED: b"1:0"}
        assert landed[b"u2"].partition() == 0
        assert dict(landed[b"u2"].headers()) == {"traceparent": b"00-abc-01", h.REPLAYED: b"0:0"}

        # A second run sends nothing; stats agree nothing is pending.
        (again,) = _json(env, "replay", "--direction", "inbound")
        assert (again["scanned"], again["replayed"]) == (0, 0)
        assert len(env.read(env.inbound)) == 2
        assert _json(env, "stats", "--direction", "inbound")[0]["replay_pending"] == 0

        # New DLQ records after the first run are picked up, and only they.
        env.produce(env.inbound_dlq, key=b"u3", value=b'{"n": 3}', original_partition=1)
        (third,) = _json(env, "replay", "--direction", "inbound")
        assert third["replayed"] == 1
        assert sorted(m.key() for m in env.read(env.inbound)) == [b"u1", b"u2", b"u3"]

        # Asked to start over, it replays everything again.
        (over,) = _json(env, "replay", "--direction", "inbound", "--from-beginning")
        assert over["replayed"] == 3
        assert len(env.read(env.inbound)) == 6

    def test_dry_run_produces_nothing_and_saves_no_progress(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        (dry,) = _json(env, "replay", "--direction", "inbound", "--dry-run")
        assert (dry["dry_run"], dry["replayed"], dry["committed"]) == (True, 4, {})
        assert env.read(env.inbound) == []
        (real,) = _json(env, "replay", "--direction", "inbound")
        assert real["replayed"] == 4
        assert len(env.read(env.inbound)) == 4

    def test_limit_then_resume_sends_each_record_once(self, env: DlqEnv) -> None:
        for n in range(5):
            env.produce(env.inbound_dlq, key=f"k{n}".encode(), value=json.dumps({"n": n}).encode())
        (first,) = _json(env, "replay", "--direction", "inbound", "--limit", "2")
        assert first["replayed"] == 2
        assert len(env.read(env.inbound)) == 2
        (rest,) = _json(env, "replay", "--direction", "inbound")
        assert rest["replayed"] == 3
        values = sorted(json.loads(m.value())["n"] for m in env.read(env.inbound))
        assert values == [0, 1, 2, 3, 4]

    def test_filters_by_record_timestamp_and_class(self, env: DlqEnv) -> None:
        _fill_inbound(env)
        (result,) = _json(env, "replay", "--direction", "inbound", "--since", "5d", "--until", "1h")
        assert result["replayed"] == 2  # the 2-hour-old and the 3-day-old records
        keys = sorted(m.key() for m in env.read(env.inbound))
        assert keys == [b"u2", b"u3"]

    def test_already_replayed_records_are_skipped_unless_asked(self, env: DlqEnv) -> None:
        env.produce(env.inbound_dlq, key=b"u1", value=b"{}", extra_headers=[(h.REPLAYED, b"0:12")])
        (skipped,) = _json(env, "replay", "--direction", "inbound")
        assert (skipped["replayed"], skipped["skipped_replayed"]) == (0, 1)
        (included,) = _json(env, "replay", "--direction", "inbound", "--from-beginning", "--include-replayed")
        assert included["replayed"] == 1
        (landed,) = env.read(env.inbound)
        assert dict(landed.headers()) == {h.REPLAYED: b"0:0"}

    def test_text_output_and_rate_option(self, env: DlqEnv) -> None:
        env.produce(env.outbound_dlq, key=b"c1", value=b"{}", action=None)
        out = _run(env, "replay", "--direction", "outbound", "--rate", "50/s")
        assert f"{env.outbound_dlq}: replayed 1 of 1 scanned ({env.outbound} 1)" in out

    def test_bad_rate_is_a_usage_error(self, env: DlqEnv) -> None:
        result = CliRunner().invoke(cli, ["dlq", "replay", "--config", str(env.config), "--rate", "fast"])
        assert result.exit_code == 2


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgressBar:
    def test_bar_on_a_terminal_for_long_replays_only(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A terminal and a long replay get a bar on stderr; short replays, JSON and pipes do not."""
        tty = FakeTTY()
        monkeypatch.setattr(sys, "stderr", tty)
        with dlq_cli._progress("text", "x.dlq", lambda: 10) as advance:
            assert advance is None
        with dlq_cli._progress("json", "x.dlq", lambda: 10_000) as advance:
            assert advance is None
        with dlq_cli._progress("text", "x.dlq", lambda: 10_000) as advance:
            assert advance is not None
            for _ in range(300):
                advance(None)  # type: ignore[arg-type]
        assert "replaying x.dlq" in tty.getvalue()
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        with dlq_cli._progress("text", "x.dlq", lambda: 10_000) as advance:
            assert advance is None
