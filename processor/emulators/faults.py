"""Latency and fault injection shared by both emulators.

A `FaultConfig` is plain data, settable at start (CLI flags) and at run time
(`POST /_emulator/faults`). A `FaultInjector` applies it to one API request: it sleeps the
configured latency, then draws once to decide whether the request fails (401, 429 with
`Retry-After`, 500, 503, or a hang that outlasts the client's timeout). A failed request never
reaches the handler, so it changes no state, as a real gateway rejection would not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response

from processor.emulators.wire import json_response

_RATE_FIELDS = ("rate_401", "rate_429", "rate_500", "rate_503", "rate_timeout")
_NON_NEGATIVE_FIELDS = ("latency_ms", "jitter_ms", "retry_after_s", "timeout_hang_s")


@dataclass
class FaultConfig:
    """What goes wrong, and how often. Rates are probabilities in 0..1."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_429: float = 0.0
    retry_after_s: float = 1.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    timeout_hang_s: float = 30.0
    rate_401: float = 0.0
    seed: int | None = None

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class FaultConfigError(ValueError):
    """A runtime fault update that names an unknown field or an out-of-range value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def updated_config(current: FaultConfig, changes: Mapping[str, object]) -> FaultConfig:
    """Return `current` with `changes` applied, or raise FaultConfigError listing every problem."""
    fields = {f.name for f in dataclasses.fields(FaultConfig)}
    values = current.to_dict()
    problems: list[str] = []
    for name, value in changes.items():
        if name not in fields:
            problems.append(f"{name}: unknown field")
            continue
        if name == "seed":
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                problems.append("seed: must be an integer or null")
                continue
            values[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{name}: must be a number")
            continue
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            problems.append(f"{name}: must be finite")
        elif name in _RATE_FIELDS and not 0.0 <= number <= 1.0:
            problems.append(f"{name}: must be between 0 and 1")
        elif name in _NON_NEGATIVE_FIELDS and number < 0:
            problems.append(f"{name}: must not be negative")
        else:
            values[name] = number
    if problems:
        raise FaultConfigError(problems)
    return FaultConfig(**values)  # type: ignore[arg-type]


_FAULT_ANSWERS = {
    "rate_401": (401, "Unauthorized"),
    "rate_429": (429, "Too Many Requests"),
    "rate_500": (500, "Internal Server Error"),
    "rate_503": (503, "Service Unavailable"),
    "rate_timeout": (504, "Gateway Timeout"),
}


def _default_error(status: int, message: str) -> Response:
    return json_response({"error": True, "message": message}, status)


def _retry_after_header(seconds: float) -> str:
    # Retry-After takes whole seconds; round up so that a client never comes back too early.
    whole = int(seconds)
    return str(whole if whole == seconds else whole + 1)


class FaultInjector:
    """Applies the current FaultConfig to API requests. One per app; not thread-safe (one loop)."""

    def __init__(
        self, config: FaultConfig | None = None, error: Callable[[int, str], Response] | None = None
    ) -> None:
        self._error = error or _default_error
        self.initial = dataclasses.replace(config) if config is not None else FaultConfig()
        self.config = dataclasses.replace(self.initial)
        self._rng = random.Random(self.config.seed)
        self._released = threading.Event()

    def release(self) -> None:
        """End every hang now and for good (server shutdown); safe to call from any thread."""
        self._released.set()

    def update(self, changes: Mapping[str, object]) -> FaultConfig:
        new = updated_config(self.config, changes)
        if "seed" in changes:
            self._rng = random.Random(new.seed)
        self.config = new
        return new

    def reset(self) -> None:
        self.config = dataclasses.replace(self.initial)
        self._rng = random.Random(self.config.seed)

    def _latency_s(self) -> float:
        c = self.config
        ms = c.latency_ms
        if c.jitter_ms > 0:
            ms += self._rng.uniform(0.0, c.jitter_ms)
        return ms / 1000.0

    def _draw(self) -> str | None:
        c = self.config
        total = c.rate_401 + c.rate_429 + c.rate_500 + c.rate_503 + c.rate_timeout
        if total <= 0.0:
            return None
        u = self._rng.random()
        edge = 0.0
        for name in _RATE_FIELDS:
            edge += getattr(c, name)
            if u < edge:
                return name
        return None

    async def _hang(self, seconds: float) -> None:
        # Short naps rather than one long sleep, so that a server shutting down is not held up.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._released.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 0.1))

    async def apply(self) -> Response | None:
        """Sleep the latency, then return a fault response, or None to let the request through."""
        delay = self._latency_s() if (self.config.latency_ms or self.config.jitter_ms) else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self._draw()
        if fault is None:
            return None
        if fault == "rate_timeout":
            await self._hang(self.config.timeout_hang_s)
        status, message = _FAULT_ANSWERS[fault]
        response = self._error(status, f"{message} (injected)")
        if status == 429:
            response.headers["Retry-After"] = _retry_after_header(self.config.retry_after_s)
        return response
