"""`cordial-bridge run` as a subprocess: both directions deliver, SIGTERM shuts down cleanly (exit 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from processor.cli import cli
from processor.demo.config import (
    DEMO_CORDIAL_KEY,
    DEMO_SEGMENT_KEY,
    fast_config,
    key_environment,
    write_config,
)
from processor.demo.observe import EmulatorClient, accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import numbered_cordial_records, numbered_segment_messages
from processor.emulators import cordial, segment
from processor.emulators.serve import start_in_thread


@pytest.fixture
def emulators():
    cordial_server = start_in_thread(cordial.create_app(api_key=DEMO_CORDIAL_KEY))
    segment_server = start_in_thread(segment.create_app(write_key=DEMO_SEGMENT_KEY))
    try:
        yield cordial_server, segment_server
    finally:
        cordial_server.stop()
        segment_server.stop()


def wait_until(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.kafka
def test_run_both_directions_then_sigterm(kafka_broker, unique_name, producer_factory, emulators, tmp_path):
    """Inbound events reach the Cordial emulator and outbound records the Segment emulator, per key in
    order; SIGTERM makes the process stop within the deadline with exit status 0."""
    cordial_server, segment_server = emulators
    inbound, outbound = unique_name("in"), unique_name("out")
    config = fast_config(
        bootstrap_servers=kafka_broker.bootstrap_servers,
        cordial_endpoint=cordial_server.url,
        segment_endpoint=segment_server.url,
        inbound_topic=inbound,
        outbound_topic=outbound,
        group_id=unique_name("g"),
    )
    path = write_config(tmp_path / "run.yaml", config)
    assert CliRunner().invoke(cli, ["topics", "create", "--config", str(path)]).exit_code == 0
    env = {**os.environ, **key_environment(), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "processor", "run", "--config", str(path), "--direction", "both"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        producer = producer_factory()
        segment_events = numbered_segment_messages("r", keys=3, per_key=4)
        cordial_events = numbered_cordial_records("r", keys=3, per_key=4)
        for event in segment_events:
            producer.produce(inbound, key=event.record.key, value=event.record.value)
        for event in cordial_events:
            producer.produce(outbound, key=event.record.key, value=event.record.value)
        producer.flush(10)
        with EmulatorClient(cordial_server.url) as c, EmulatorClient(segment_server.url) as s:
            wait_until(lambda: len(accepted_cordial_calls(c.received())) >= 12)
            wait_until(lambda: len(accepted_segment_messages(s.received())) >= 12)
            calls = accepted_cordial_calls(c.received())
            messages = accepted_segment_messages(s.received())
        seqs: dict[str, list[int]] = {}
        for call in calls:
            seqs.setdefault(call.body["segmentId"], []).append(call.body["properties"]["seq"])
        for message in messages:
            seqs.setdefault(message["anonymousId"], []).append(message["properties"]["properties_seq"])
        assert len(seqs) == 6
        assert all(len(values) >= 4 for values in seqs.values())
        for key, values in seqs.items():
            assert values == sorted(values), key
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output.decode(errors="replace")
        assert DEMO_CORDIAL_KEY.encode() not in output
        assert DEMO_SEGMENT_KEY.encode() not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_without_keys_is_a_config_error(tmp_path):
    """No Cordial API key: exit 2 with a message that names the variable, before consuming anything."""
    path = tmp_path / "c.yaml"
    path.write_text("kafka:\n  bootstrap_servers: 127.0.0.1:1\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CORDIAL_API_KEY", "SEGMENT_WRITE_KEY")}
    result = CliRunner(env=env).invoke(
        cli, ["run", "--config", str(path), "--direction", "inbound", "--no-ops-server"]
    )
    assert result.exit_code == 2, result.output
    assert "CORDIAL_API_KEY" in result.output
