"""DLQ replay end to end: the APIs fail for longer than the retry budget → every record is
dead-lettered → the APIs recover → `dlq replay` → everything is delivered; a second replay sends
nothing. The same run checks that the keys never reach logs, metrics or DLQ headers."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import structlog
from click.testing import CliRunner
from prometheus_client import generate_latest

from processor.cli import cli
from processor.config.settings import OpsSettings
from processor.demo.config import DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY
from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import numbered_cordial_records, numbered_segment_messages
from processor.ops.logging import configure_logging
from processor.runtime import headers as h
from processor.runtime.dlq_scan import DlqFilter, scan, scan_consumer
from processor.runtime.replay import ReplayOptions, make_replayer

pytestmark = pytest.mark.kafka

KEYS = (DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY)


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    configure_logging(OpsSettings(log_format="json", log_level="debug"), secrets=KEYS, stream=stream)
    yield stream
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "cordial-bridge":
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _dlq_records(bridge, direction):
    consumer = scan_consumer(bridge.settings.kafka, "e2e-dlq-reader")
    try:
        return list(scan(consumer, bridge.dlq(direction)))
    finally:
        consumer.close()


async def test_fails_dead_letters_then_replay_delivers_once(
    make_bridge, emulators, poll_until, captured_logs
) -> None:
    bridge = make_bridge(tiers=("1s",), max_attempts=2, in_process_attempts=1)
    inbound = numbered_segment_messages("dlq", keys=3, per_key=2)
    outbound = numbered_cordial_records("dlq", keys=2, per_key=2)
    emulators.cordial_client.set_faults(rate_503=1.0)
    emulators.segment_client.set_faults(rate_503=1.0)
    bridge.publish("inbound", [e.record for e in inbound])
    bridge.publish("outbound", [e.record for e in outbound])

    async with bridge.running() as run:
        await poll_until(
            lambda: (
                run.sample("cordial_bridge_records_outcome_total", outcome="dead_lettered")
                >= len(inbound) + len(outbound)
            ),
            timeout_s=60,
            what="every record dead-lettered",
        )
        dlq_in = await asyncio.to_thread(_dlq_records, bridge, "inbound")
        dlq_out = await asyncio.to_thread(_dlq_records, bridge, "outbound")
        assert len(dlq_in) == len(inbound)
        assert len(dlq_out) == len(outbound)
        assert {r.headers[h.ERROR_CLASS] for r in dlq_in + dlq_out} == {"retries_exhausted"}
        assert accepted_cordial_calls(emulators.cordial_client.received()) == []

        # The APIs recover; replay inbound through the library (counting into the workers' metrics)
        # and outbound through the CLI.
        emulators.cordial_client.set_faults(rate_503=0.0)
        emulators.segment_client.set_faults(rate_503=0.0)
        replayer = make_replayer(
            bridge.settings.kafka,
            topic=bridge.dlq("inbound"),
            direction="inbound",
            dry_run=False,
            metrics=run.metrics,
        )
        try:
            result = await asyncio.to_thread(replayer.run, DlqFilter(), ReplayOptions())
        finally:
            replayer.close()
        assert result.replayed == len(inbound)
        assert run.sample("cordial_bridge_dlq_replayed_total", direction="inbound") == len(inbound)
        cli_out = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            [
                "dlq",
                "replay",
                "--config",
                str(bridge.config_path),
                "--direction",
                "outbound",
                "--format",
                "json",
            ],
        )
        assert cli_out.exit_code == 0, cli_out.output
        assert json.loads(cli_out.stdout)[0]["replayed"] == len(outbound)

        def delivered():
            calls = accepted_cordial_calls(emulators.cordial_client.received())
            messages = accepted_segment_messages(emulators.segment_client.received())
            done = len(calls) >= len(inbound) and len(messages) >= len(outbound)
            return (calls, messages) if done else None

        calls, messages = await poll_until(delivered, timeout_s=60, what="replayed records delivered")
        await asyncio.sleep(1.0)  # a duplicate would show up now

        # A second replay of both DLQs sends nothing.
        again = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["dlq", "replay", "--config", str(bridge.config_path), "--format", "json"],
        )
        assert again.exit_code == 0, again.output
        assert [r["replayed"] for r in json.loads(again.stdout)] == [0, 0]
        metrics_text = generate_latest(run.metrics.registry).decode()

    calls = accepted_cordial_calls(emulators.cordial_client.received())
    messages = accepted_segment_messages(emulators.segment_client.received())
    assert sorted((c.body["segmentId"], c.body["properties"]["seq"]) for c in calls) == sorted(
        (e.key, e.seq) for e in inbound
    )
    assert sorted((m["anonymousId"], m["properties"]["properties_seq"]) for m in messages) == sorted(
        (e.key, e.seq) for e in outbound
    )

    # The keys appear nowhere: not in logs, metrics or DLQ headers.
    logs = captured_logs.getvalue()
    assert "record_dead_lettered" in logs
    dead_lines = [json.loads(line) for line in logs.splitlines() if '"record_dead_lettered"' in line]
    assert all("event_id" in line and "partition" in line for line in dead_lines)
    header_text = json.dumps([dict(r.headers) for r in dlq_in + dlq_out])
    for key in KEYS:
        assert key not in logs
        assert key not in metrics_text
        assert key not in header_text
