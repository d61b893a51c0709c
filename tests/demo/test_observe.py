"""Reading the emulators: only accepted (2xx) calls count as delivered; batches are unpacked."""

from __future__ import annotations

from typing import Any

import httpx

from processor.demo.observe import EmulatorClient, accepted_cordial_calls, accepted_segment_messages
from processor.emulators import cordial, segment
from processor.emulators.serve import start_in_thread


def test_accepted_calls_skip_faults_and_probes() -> None:
    received: list[dict[str, Any]] = [
        {"path": "/api/segment/upsertContact", "status": 200, "body": {"a": 1}},
        {"path": "/api/segment/upsertContact", "status": 503, "body": {"a": 2}},
        {"path": "/api/checkAuth", "status": 200, "body": None},
        {"path": "/api/segment/createContactactivity", "status": None, "body": {"a": 3}},
    ]
    calls = accepted_cordial_calls(received)
    assert [(c.action, c.body) for c in calls] == [("upsertContact", {"a": 1})]


def test_accepted_segment_messages_unpack_batches() -> None:
    received = [
        {"path": "/v1/batch", "status": 200, "body": {"batch": [{"m": 1}, {"m": 2}]}},
        {"path": "/v1/batch", "status": 429, "body": {"batch": [{"m": 3}]}},
        {"path": "/v1/track", "status": 200, "body": {"m": 4}},
    ]
    assert accepted_segment_messages(received) == [{"m": 1}, {"m": 2}, {"m": 4}]


def test_client_reads_a_live_emulator_and_sets_faults() -> None:
    """Against a served emulator: a faulted request is recorded with its status, not accepted."""
    with start_in_thread(cordial.create_app(api_key="k")) as server, EmulatorClient(server.url) as client:
        body = {"segmentId": "u1", "action": "x"}
        ok = httpx.post(
            f"{server.url}/api/segment/createContactactivity", json=body, headers={"x-api-key": "k"}
        )
        assert ok.status_code == 200
        client.set_faults(rate_503=1.0)
        failed = httpx.post(
            f"{server.url}/api/segment/createContactactivity", json=body, headers={"x-api-key": "k"}
        )
        assert failed.status_code == 503
        received = client.received()
        assert [r["status"] for r in received] == [200, 503]
        assert [c.body for c in accepted_cordial_calls(received)] == [body]
        client.reset()
        assert client.received() == []


def test_client_pages_through_a_long_log() -> None:
    with start_in_thread(segment.create_app(write_key="w")) as server, EmulatorClient(server.url) as client:
        for i in range(3):
            httpx.post(
                f"{server.url}/v1/batch",
                json={"batch": [{"type": "track", "event": "e", "anonymousId": str(i)}]},
                auth=("w", ""),
            )
        assert len(client.received(since=1)) == 2
        assert [m["anonymousId"] for m in accepted_segment_messages(client.received())] == ["0", "1", "2"]
