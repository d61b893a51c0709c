"""AuthGate: a 401 closes the gate, checkAuth is probed with backoff, the gate reopens when it passes."""

from __future__ import annotations

import asyncio

from processor.errors import ErrorClass
from processor.outcomes import AuthFailed, Outcome, Retry, Sent
from processor.runtime.auth import AuthGate


def is_open(gate: AuthGate) -> bool:
    """Read the property through a call, so the type checker does not narrow it between asserts."""
    return gate.is_open


class Probe:
    def __init__(self, answers: list[Outcome]) -> None:
        self.answers = answers
        self.calls = 0

    async def __call__(self) -> Outcome:
        self.calls += 1
        return self.answers.pop(0)


async def test_trip_probe_with_backoff_and_reopen() -> None:
    """Probes wait initial, 2x, 4x ... capped at max; a probe error or retryable answer keeps probing;
    the gate opens (and on_change(False) fires) only after a successful probe."""
    sleeps: list[float] = []
    changes: list[bool] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    probe = Probe([AuthFailed(401, "no"), Retry(ErrorClass.TIMEOUT, "t"), AuthFailed(403, "no"), Sent()])
    gate = AuthGate(probe, initial_s=1.0, max_s=3.0, on_change=changes.append, sleep=fake_sleep)
    assert gate.is_open
    assert gate.trip(AuthFailed(401, "bad key"))
    assert not gate.trip(AuthFailed(401, "again")), "a second trip while closed changes nothing"
    assert changes == [True]
    assert not is_open(gate)
    await asyncio.wait_for(gate.wait_open(), timeout=5)
    assert is_open(gate)
    assert probe.calls == 4
    assert sleeps == [1.0, 2.0, 3.0, 3.0]
    assert changes == [True, False]
    await gate.aclose()


async def test_waiters_block_until_open() -> None:
    """A record task waiting on the gate does not proceed while the key is refused."""
    release = asyncio.Event()

    async def probe() -> Outcome:
        await release.wait()
        return Sent()

    gate = AuthGate(probe, initial_s=0.0, max_s=0.0, on_change=lambda _: None)
    gate.trip(AuthFailed(401, "bad"))
    waiter = asyncio.create_task(gate.wait_open())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, timeout=5)
    await gate.aclose()


async def test_aclose_stops_probing() -> None:
    async def probe() -> Outcome:
        return AuthFailed(401, "bad")

    gate = AuthGate(probe, initial_s=0.0, max_s=0.01, on_change=lambda _: None)
    gate.trip(AuthFailed(401, "bad"))
    await asyncio.sleep(0.02)
    await gate.aclose()
    assert not gate.is_open
