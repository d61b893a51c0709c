"""401 from Cordial: the inbound direction pauses (not ready, nothing dead-lettered or retried),
probes checkAuth, and once the key works again delivers everything without loss."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from processor.demo.observe import accepted_cordial_calls, status_counts
from processor.demo.traffic import numbered_segment_messages

pytestmark = pytest.mark.kafka


def _inbound_state(running) -> dict[str, object]:
    _ready, details = running.readiness.snapshot()
    directions = details["directions"]
    assert isinstance(directions, dict)
    state = directions.get("inbound", {})
    assert isinstance(state, dict)
    return state


async def test_401_pauses_the_direction_and_it_recovers_without_loss(
    make_bridge, emulators, poll_until
) -> None:
    bridge = make_bridge()
    events = numbered_segment_messages("auth", keys=2, per_key=5)
    want = {(e.key, e.seq) for e in events}
    emulators.cordial_client.set_faults(rate_401=1.0)
    bridge.publish("inbound", [e.record for e in events])
    tail = bridge.tail(["inbound"])

    async with bridge.running(["inbound"]) as running:
        await poll_until(
            lambda: _inbound_state(running).get("auth_paused") is True,
            timeout_s=60,
            what="the inbound direction to pause for auth",
        )
        assert running.sample("cordial_bridge_auth_paused", direction="inbound") == 1
        assert running.readiness.snapshot()[0] is False
        await asyncio.sleep(2.0)  # paused, it must neither deliver nor dead-letter nor retry
        received = emulators.cordial_client.received()
        assert accepted_cordial_calls(received) == []
        assert status_counts(received).get(401, 0) >= 1
        assert any(r["path"] == "/api/checkAuth" for r in received), "checkAuth is probed"
        tail.drain(0.2)
        assert {t: tail.count(t) for t in tail.topics} == dict.fromkeys(tail.topics, 0)

        emulators.cordial_client.set_faults(rate_401=0.0)

        def all_arrived() -> bool:
            calls = accepted_cordial_calls(emulators.cordial_client.received())
            return {(c.body["segmentId"], c.body["properties"]["seq"]) for c in calls} == want

        await poll_until(all_arrived, timeout_s=60, what="every event after the key works again")
        await poll_until(
            lambda: _inbound_state(running).get("auth_paused") is False,
            timeout_s=30,
            what="the pause to clear",
        )
        assert running.sample("cordial_bridge_auth_paused", direction="inbound") == 0

    tail.drain(0.3)
    assert {t: tail.count(t) for t in tail.topics} == dict.fromkeys(tail.topics, 0), "nothing dead-lettered"
    calls = accepted_cordial_calls(emulators.cordial_client.received())
    arrived = Counter((c.body["segmentId"], c.body["properties"]["seq"]) for c in calls)
    for key in ("auth-u0", "auth-u1"):
        first_arrivals = list(dict.fromkeys(seq for (k, seq) in arrived.elements() if k == key))
        assert first_arrivals == list(range(5)), "per-key order holds across the pause"
    print(f"auth pause: {sum(arrived.values()) - len(arrived)} duplicate deliveries after the pause")
