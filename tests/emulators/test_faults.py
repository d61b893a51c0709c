"""Fault injection and latency: config validation, each fault at rate 1.0, runtime changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from processor.emulators import cordial, segment
from processor.emulators.faults import FaultConfig, FaultConfigError, FaultInjector, updated_config

KEY = "k"


def cordial_client(faults: FaultConfig | None = None) -> httpx.AsyncClient:
    app = cordial.create_app(api_key=KEY, faults=faults)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with cordial_client() as c:
        yield c


BODY = {"segmentId": "u1"}


class TestUpdatedConfig:
    def test_applies_known_fields(self):
        new = updated_config(FaultConfig(), {"rate_429": 0.5, "latency_ms": 20, "seed": 3})
        assert (new.rate_429, new.latency_ms, new.seed) == (0.5, 20.0, 3)

    @pytest.mark.parametrize(
        ("changes", "problem"),
        [
            ({"rate_500": 1.5}, "rate_500: must be between 0 and 1"),
            ({"rate_401": -0.1}, "rate_401: must be between 0 and 1"),
            ({"latency_ms": -1}, "latency_ms: must not be negative"),
            ({"jitter_ms": "5"}, "jitter_ms: must be a number"),
            ({"rate_429": True}, "rate_429: must be a number"),
            ({"bogus": 1}, "bogus: unknown field"),
            ({"seed": 1.5}, "seed: must be an integer or null"),
        ],
    )
    def test_rejects_bad_values(self, changes, problem):
        with pytest.raises(FaultConfigError) as info:
            updated_config(FaultConfig(), changes)
        assert info.value.problems == [problem]

    def test_lists_every_problem(self):
        with pytest.raises(FaultConfigError) as info:
            updated_config(FaultConfig(), {"rate_500": 2, "latency_ms": -1})
        assert len(info.value.problems) == 2


class TestInjector:
    async def test_seeded_draws_are_reproducible(self):
        """The same seed gives the same sequence of faults, so a flaky-looking run can be replayed."""

        async def run() -> list[int | None]:
            injector = FaultInjector(FaultConfig(rate_500=0.3, rate_503=0.3, seed=42))
            out = []
            for _ in range(50):
                response = await injector.apply()
                out.append(None if response is None else response.status_code)
            return out

        first, second = await run(), await run()
        assert first == second
        assert {500, 503, None} == set(first)

    def test_jitter_stays_within_latency_plus_jitter(self):
        injector = FaultInjector(FaultConfig(latency_ms=20, jitter_ms=10, seed=1))
        delays = [injector._latency_s() for _ in range(200)]
        assert all(0.020 <= d <= 0.030 for d in delays)
        assert len(set(delays)) > 100

    async def test_seed_set_at_run_time_restarts_the_sequence(self):
        fresh = FaultInjector(FaultConfig(rate_500=0.5, seed=7))
        expected = [await fresh.apply() is None for _ in range(30)]
        injector = FaultInjector(FaultConfig(rate_500=0.5))
        for _ in range(5):
            await injector.apply()
        injector.update({"seed": 7})
        assert [await injector.apply() is None for _ in range(30)] == expected

    async def test_rates_zero_never_fault(self):
        injector = FaultInjector(FaultConfig())
        assert all([await injector.apply() is None for _ in range(100)])

    def test_reset_restores_start_config(self):
        injector = FaultInjector(FaultConfig(latency_ms=5))
        injector.update({"rate_500": 1.0})
        injector.reset()
        assert injector.config == FaultConfig(latency_ms=5)


class TestFaultsOnTheApi:
    @pytest.mark.parametrize(
        ("field", "status"),
        [("rate_401", 401), ("rate_429", 429), ("rate_500", 500), ("rate_503", 503)],
    )
    async def test_rate_one_always_gives_the_fault_and_changes_no_state(self, field, status):
        async with cordial_client(updated_config(FaultConfig(), {field: 1.0})) as client:
            for _ in range(3):
                r = await client.post("/api/segment/upsertContact", json=BODY)
                assert r.status_code == status
                assert r.json()["error"] is True
            assert (await client.get("/_emulator/state")).json()["contacts"] == []
            received = (await client.get("/_emulator/received")).json()
            assert [e["status"] for e in received["requests"]] == [status] * 3

    @pytest.mark.parametrize(("retry_after", "header"), [(1.0, "1"), (2.5, "3"), (0.0, "0")])
    async def test_429_carries_retry_after_in_whole_seconds(self, retry_after, header):
        async with cordial_client(FaultConfig(rate_429=1.0, retry_after_s=retry_after)) as client:
            r = await client.get("/api/checkAuth")
            assert r.status_code == 429
            assert r.headers["Retry-After"] == header

    async def test_timeout_fault_hangs_then_answers_504(self):
        """A timeout fault holds the request for timeout_hang_s (clients time out first), then 504."""
        async with cordial_client(FaultConfig(rate_timeout=1.0, timeout_hang_s=0.3)) as client:
            task = asyncio.create_task(client.post("/api/segment/upsertContact", json=BODY))
            await asyncio.sleep(0.1)
            assert not task.done()
            r = await task
            assert r.status_code == 504
            assert (await client.get("/_emulator/state")).json()["contacts"] == []

    async def test_latency_delays_the_answer(self):
        """With latency set, a request is still pending after part of the latency has passed."""
        async with cordial_client(FaultConfig(latency_ms=200)) as client:
            task = asyncio.create_task(client.get("/api/checkAuth"))
            await asyncio.sleep(0.05)
            assert not task.done()
            assert (await task).status_code == 200

    async def test_segment_faults_too(self):
        app = segment.create_app(write_key="w", faults=FaultConfig(rate_503=1.0))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s", auth=("w", "")
        ) as c:
            r = await c.post("/v1/batch", json={"batch": []})
            assert r.status_code == 503
            assert r.json()["success"] is False
            await c.post("/_emulator/faults", json={"rate_503": 0, "rate_429": 1.0, "retry_after_s": 7})
            r = await c.post("/v1/batch", json={"batch": []})
            assert r.status_code == 429
            assert r.headers["Retry-After"] == "7"
            assert (await c.get("/_emulator/state")).json()["accepted"] == 0


class TestRuntimeControl:
    async def test_set_and_get_faults_at_run_time(self, client):
        assert (await client.post("/api/segment/upsertContact", json=BODY)).status_code == 200
        r = await client.post("/_emulator/faults", json={"rate_500": 1.0})
        assert r.status_code == 200
        assert r.json()["rate_500"] == 1.0
        assert (await client.get("/_emulator/faults")).json()["rate_500"] == 1.0
        assert (await client.post("/api/segment/upsertContact", json=BODY)).status_code == 500
        await client.post("/_emulator/faults", json={"rate_500": 0})
        assert (await client.post("/api/segment/upsertContact", json=BODY)).status_code == 200

    async def test_control_routes_are_never_faulted_nor_authenticated(self):
        faults = FaultConfig(rate_401=0.5, rate_500=0.5)
        app = cordial.create_app(api_key=KEY, faults=faults)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as c:
            for path in ("/_emulator/faults", "/_emulator/received", "/_emulator/state"):
                for _ in range(5):
                    assert (await c.get(path)).status_code == 200
            assert (await c.post("/_emulator/reset")).status_code == 200

    @pytest.mark.parametrize(
        "content",
        [b"{", b"[]", b'{"rate_500": 3}', b'{"nope": 1}'],
        ids=["bad-json", "array", "range", "unknown"],
    )
    async def test_bad_fault_updates_are_400_and_change_nothing(self, client, content):
        r = await client.post("/_emulator/faults", content=content)
        assert r.status_code == 400
        assert r.json()["error"] is True
        assert (await client.get("/_emulator/faults")).json() == FaultConfig().to_dict()

    async def test_reset_restores_start_up_faults(self):
        async with cordial_client(FaultConfig(latency_ms=1)) as client:
            await client.post("/_emulator/faults", json={"rate_503": 1.0})
            r = await client.post("/_emulator/reset")
            assert r.json()["faults"] == FaultConfig(latency_ms=1).to_dict()
