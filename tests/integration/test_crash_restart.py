"""`kill -9` of a `cordial-bridge run` process in the middle of a stream, then a restart: every
event arrives at least once (at-least-once, SPEC §7). The duplicate count is printed and recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from processor.demo.config import key_environment
from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import numbered_cordial_records, numbered_segment_messages

pytestmark = pytest.mark.kafka

KEYS, PER_KEY = 4, 30


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **key_environment()}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "processor", "run", "--direction", "both", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _wait(check: Callable[[], bool], timeout_s: float, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            raise AssertionError(f"the worker exited with {process.returncode} while waiting for {what}")
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_kill_9_mid_stream_then_restart_delivers_everything(
    make_bridge, emulators, tmp_path, record_property
) -> None:
    bridge = make_bridge()
    inbound = numbered_segment_messages("crash", keys=KEYS, per_key=PER_KEY)
    outbound = numbered_cordial_records("crash", keys=KEYS, per_key=PER_KEY)
    want_in = {(e.key, e.seq) for e in inbound}
    want_out = {(e.key, e.seq) for e in outbound}
    # Slow answers, so that the kill lands while records are in flight.
    emulators.cordial_client.set_faults(latency_ms=40)
    emulators.segment_client.set_faults(latency_ms=40)
    bridge.publish("inbound", [e.record for e in inbound])
    bridge.publish("outbound", [e.record for e in outbound])

    def arrivals() -> tuple[Counter[tuple[str, int]], Counter[tuple[str, int]]]:
        calls = accepted_cordial_calls(emulators.cordial_client.received())
        messages = accepted_segment_messages(emulators.segment_client.received())
        got_in = Counter((c.body["segmentId"], c.body["properties"]["seq"]) for c in calls)
        got_out = Counter((m["anonymousId"], m["properties"]["properties_seq"]) for m in messages)
        return got_in, got_out

    log = tmp_path / "worker.log"
    first = _start(bridge.config_path, log)
    try:
        _wait(
            lambda: len(arrivals()[0]) >= len(want_in) // 4,
            60,
            "a quarter of the stream to arrive",
            first,
        )
        got_in, got_out = arrivals()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        assert len(got_in) < len(want_in), "the kill landed mid-stream"
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)

    second = _start(bridge.config_path, log)
    try:
        _wait(
            lambda: set(arrivals()[0]) == want_in and set(arrivals()[1]) == want_out,
            120,
            "every event after the restart",
            second,
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(10)

    got_in, got_out = arrivals()
    assert set(got_in) == want_in
    assert set(got_out) == want_out
    duplicates = sum(got_in.values()) - len(got_in) + sum(got_out.values()) - len(got_out)
    record_property("duplicates", duplicates)
    print(f"kill -9 then restart: {len(want_in) + len(want_out)} events, {duplicates} duplicate deliveries")
