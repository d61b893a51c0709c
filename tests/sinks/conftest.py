"""Fixtures for the sink tests: fake time, settings carrying secrets, a fresh metrics registry."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from processor.config.secrets import Secret
from processor.config.settings import CordialSettings, HttpSettings, SegmentSettings
from processor.ops.metrics import BridgeMetrics
from processor.sinks.requester import Timing

API_KEY = "ck_live_SECRET_api_key_0123456789"
WRITE_KEY = "wk_SECRET_write_key_abcdefghij"
NOW = 1_800_000_000.0


class FakeClock:
    """Records every sleep instead of sleeping; time stands still at `now`."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)

    def timing(self) -> Timing:
        return Timing(sleep=self.sleep, now=lambda: self.now, rand=lambda: 0.5)


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def write_key() -> str:
    return WRITE_KEY


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> BridgeMetrics:
    return BridgeMetrics(CollectorRegistry())


@pytest.fixture
def make_cordial_settings() -> Callable[..., CordialSettings]:
    def make(endpoint: str = "http://cordial.test", **http: object) -> CordialSettings:
        settings = dataclasses.replace(HttpSettings(), **http)  # type: ignore[arg-type]
        return CordialSettings(endpoint=endpoint, api_key=Secret(API_KEY), http=settings)

    return make


@pytest.fixture
def make_segment_settings() -> Callable[..., SegmentSettings]:
    def make(
        endpoint: str = "http://segment.test", *, http: HttpSettings | None = None, **fields: object
    ) -> SegmentSettings:
        base = SegmentSettings(endpoint=endpoint, write_key=Secret(WRITE_KEY), http=http or HttpSettings())
        return dataclasses.replace(base, **fields)  # type: ignore[arg-type]

    return make
