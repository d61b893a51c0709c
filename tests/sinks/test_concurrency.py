"""The AIMD limit: shrinks once per burst of overload, grows back on success, stays in bounds."""

from __future__ import annotations

import asyncio

import pytest

from processor.config.settings import HttpSettings
from processor.sinks.concurrency import AimdLimiter, Signal


async def test_acquire_blocks_at_the_limit_and_wakes_in_order() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=2)
    first = await limiter.acquire()
    await limiter.acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert order == []
    assert limiter.in_flight == 2
    limiter.release(first, Signal.NEUTRAL)
    await asyncio.sleep(0)
    assert order == [0]
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)


async def test_burst_of_overload_halves_once() -> None:
    """Fifty 429s for requests sent together are one signal, not fifty."""
    changes: list[int] = []
    limiter = AimdLimiter(min_limit=1, max_limit=64, on_change=changes.append)
    permits = [await limiter.acquire() for _ in range(50)]
    for permit in permits:
        limiter.release(permit, Signal.OVERLOAD)
    assert limiter.limit == 32
    assert changes == [64, 32]


async def test_storm_shrinks_to_minimum_then_success_grows_back() -> None:
    limiter = AimdLimiter(min_limit=2, max_limit=40)
    for _ in range(10):  # each new request in a storm sees the lowered limit and is refused again
        limiter.release(await limiter.acquire(), Signal.OVERLOAD)
    assert limiter.limit == 2
    previous = limiter.limit
    grew = []
    for _ in range(2000):
        limiter.release(await limiter.acquire(), Signal.SUCCESS)
        grew.append(limiter.limit >= previous)
        previous = limiter.limit
    assert all(grew)
    assert limiter.limit == 40


async def test_additive_increase_is_about_one_per_window() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=100, initial=10)
    for _ in range(10):
        limiter.release(await limiter.acquire(), Signal.SUCCESS)
    assert limiter.limit == 10 or limiter.limit == 11
    for _ in range(12):
        limiter.release(await limiter.acquire(), Signal.SUCCESS)
    assert limiter.limit == 11 or limiter.limit == 12


async def test_neutral_signals_do_not_move_the_limit() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=8, initial=4)
    for _ in range(20):
        limiter.release(await limiter.acquire(), Signal.NEUTRAL)
    assert limiter.limit == 4


async def test_slot_releases_on_exception() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=1)

    async def fail() -> None:
        async with limiter.slot() as permit:
            permit.signal = Signal.OVERLOAD
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail()
    assert limiter.in_flight == 0
    assert limiter.limit == 1


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=1)
    held = await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    limiter.release(held, Signal.NEUTRAL)  # hands the slot to the waiter…
    waiter.cancel()  # …which is cancelled before it runs
    await asyncio.gather(waiter, return_exceptions=True)
    assert limiter.in_flight == 0
    again = await asyncio.wait_for(limiter.acquire(), 1)
    limiter.release(again)


def test_from_settings_uses_the_bounds() -> None:
    limiter = AimdLimiter.from_settings(HttpSettings(max_concurrency=12, min_concurrency=3))
    assert (limiter.min_limit, limiter.max_limit, limiter.limit) == (3, 12, 12)


@pytest.mark.parametrize(("low", "high"), [(0, 4), (5, 4)])
def test_bad_bounds_refused(low: int, high: int) -> None:
    with pytest.raises(ValueError):
        AimdLimiter(min_limit=low, max_limit=high)


async def test_limiter_is_itself_an_async_context_manager() -> None:
    limiter = AimdLimiter(min_limit=1, max_limit=4, initial=2)

    async def overloaded() -> None:
        async with limiter as permit:
            permit.signal = Signal.OVERLOAD
            await asyncio.sleep(0)

    async with limiter as outer:
        outer.signal = Signal.SUCCESS
        assert limiter.in_flight == 1
        await asyncio.gather(overloaded())
        assert limiter.in_flight == 1
        assert limiter.limit == 1  # halved by the overload in the other task
    assert limiter.in_flight == 0
    assert limiter.limit == 2  # the outer success adds 1/limit
