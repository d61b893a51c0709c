"""One HTTP round trip, classified: the two ways a sink reaches the wire.

* `AiohttpExchange`, the default: aiohttp directly. `bench/http_sink.py` measured the httpx layer
  (even on the aiohttp transport) at ~2.5x the client CPU per request of plain aiohttp, which is
  the case SPEC §1 names for going direct on the hot path.
* `HttpxExchange`: any `httpx.AsyncClient`, used when a sink is handed a client or a transport
  (unit tests pass `httpx.MockTransport`).

Both return an Outcome for every answer or failure; statuses and exceptions are mapped by
`sinks/http.py` only. Neither retries: that is `Requester`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol

import aiohttp
import httpx
from yarl import URL

from processor.config.settings import HttpSettings
from processor.outcomes import Outcome, Sent
from processor.sinks.http import (
    CLASSIFIED_EXCEPTIONS,
    classify_exception,
    classify_response,
    credential_values,
    make_client,
    make_session,
)

_MAX_CACHED_URLS: Final = 256
_BODY_FRAMING: Final = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})
"""aiohttp has already undone these; httpx must not try again."""


class Exchange(Protocol):
    """Sends one request and classifies the result. May block for the request's duration."""

    async def __call__(
        self, method: str, path: str, *, action: str, content: bytes | None, headers: Mapping[str, str] | None
    ) -> Outcome: ...

    async def aclose(self) -> None: ...


class HttpxExchange:
    """Through an httpx client; `headers` are added per request (for a client someone else built)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        owns_client: bool,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._owns_client = owns_client
        self._headers = dict(headers) if headers else None
        self._secrets = tuple(secrets)
        self._now = now

    async def __call__(
        self, method: str, path: str, *, action: str, content: bytes | None, headers: Mapping[str, str] | None
    ) -> Outcome:
        merged = {**self._headers, **(headers or {})} if self._headers else headers
        try:
            response = await self.client.request(method, path, content=content, headers=merged)
        except CLASSIFIED_EXCEPTIONS as exc:
            return classify_exception(exc, action=action, secrets=self._secrets)
        return classify_response(response, action=action, secrets=self._secrets, now=self._now())

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()


class AiohttpExchange:
    """Through one pooled keep-alive aiohttp session, created on first use (it needs a running loop)."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        base_url: str,
        headers: Mapping[str, str],
        secrets: Iterable[str] = (),
        now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._secrets = tuple(secrets)
        self._now = now
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = URL(self._base_url + path)
            if len(self._urls) < _MAX_CACHED_URLS:
                self._urls[path] = url
        return url

    async def __call__(
        self, method: str, path: str, *, action: str, content: bytes | None, headers: Mapping[str, str] | None
    ) -> Outcome:
        session = self._session
        if session is None or session.closed:
            session = self._session = make_session(self._settings, headers=self._headers)
        url = self._url(path)
        try:
            async with session.request(
                method, url, data=content, headers=headers, allow_redirects=False
            ) as response:
                body = await response.read()
                status = response.status
                if 200 <= status < 300:
                    return Sent(status=status)
                answer = httpx.Response(
                    status,
                    headers=[(k, v) for k, v in response.raw_headers if k.lower() not in _BODY_FRAMING],
                    content=body,
                    request=httpx.Request(method, str(url), headers={**self._headers, **(headers or {})}),
                )
        except CLASSIFIED_EXCEPTIONS as exc:
            return classify_exception(exc, action=action, secrets=self._secrets)
        return classify_response(answer, action=action, secrets=self._secrets, now=self._now())

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def build_exchange(
    settings: HttpSettings,
    *,
    base_url: str,
    headers: Mapping[str, str],
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], float] = time.time,
) -> Exchange:
    """aiohttp directly unless a client or transport is given; `headers` carry the credentials.

    An injected client stays the caller's (not closed here) and gets `headers` per request; a
    transport gets a client of our own from `make_client`.
    """
    secrets = credential_values(headers)
    if client is not None:
        return HttpxExchange(client, owns_client=False, headers=headers, secrets=secrets, now=now)
    if transport is not None:
        own = make_client(settings, base_url=base_url, headers=headers, transport=transport)
        return HttpxExchange(own, owns_client=True, secrets=secrets, now=now)
    return AiohttpExchange(settings, base_url=base_url, headers=headers, secrets=secrets, now=now)
