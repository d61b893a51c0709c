"""CordialSink: one request to the integrations ingest service per `CordialRequest` (SPEC §3).

Lifecycle: build it, `check_auth()` before consuming, `send()` each request (concurrently, many at
once: the AIMD limit decides how many reach the wire), `aclose()` at shutdown. `send()` returns an
Outcome and never raises for HTTP failures; it may block while it waits between attempts.
"""

from __future__ import annotations

from typing import Final

import httpx
import orjson

from processor.config.settings import CordialSettings
from processor.errors import ConfigError, ErrorClass
from processor.inbound.requests import CordialRequest
from processor.ops.metrics import BridgeMetrics
from processor.outcomes import Outcome, Rejected
from processor.sinks.concurrency import AimdLimiter
from processor.sinks.requester import Timing, build_requester

DIRECTION: Final = "inbound"
CHECK_AUTH_PATH: Final = "/api/checkAuth"
CHECK_AUTH_ACTION: Final = "checkAuth"


class CordialSink:
    """Sends inbound requests to Cordial with `x-api-key` (aiohttp unless given a client/transport)."""

    def __init__(
        self,
        settings: CordialSettings,
        *,
        metrics: BridgeMetrics | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timing: Timing | None = None,
        limiter: AimdLimiter | None = None,
    ) -> None:
        if settings.api_key is None or not settings.api_key:
            raise ConfigError(
                f"no Cordial API key: set the {settings.api_key_env} environment variable "
                "or cordial.api_key_file"
            )
        key = settings.api_key.reveal()
        headers = {"x-api-key": key, "Accept": "application/json", "Content-Type": "application/json"}
        timing = timing or Timing()
        self._requester = build_requester(
            settings.http,
            base_url=settings.endpoint,
            headers=headers,
            direction=DIRECTION,
            metrics=metrics,
            timing=timing,
            client=client,
            transport=transport,
            limiter=limiter,
        )
        self.limiter = self._requester.limiter

    async def send(self, request: CordialRequest) -> Outcome:
        """`POST {endpoint}{request.path}` with the body in wire order; the final Outcome."""
        try:
            content = orjson.dumps(request.body)
        except orjson.JSONEncodeError as exc:
            return Rejected(
                ErrorClass.VALIDATION, f"body cannot be sent as JSON: {exc}", action=request.action
            )
        return await self._requester.send(
            request.method, request.path, action=request.action, content=content
        )

    async def check_auth(self) -> Outcome:
        """`GET {endpoint}/api/checkAuth`: Sent when the key works, AuthFailed when it does not."""
        return await self._requester.send("GET", CHECK_AUTH_PATH, action=CHECK_AUTH_ACTION)

    async def aclose(self) -> None:
        """Release the connection pool (an injected client is left open for its owner)."""
        await self._requester.aclose()

    async def __aenter__(self) -> CordialSink:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
