"""The HTTP edge: the client factories, and the one place where answers and failures become Outcomes.

`make_session` builds the aiohttp session the sinks use by default (`sinks/exchange.py` says
why); `make_client` builds an httpx client on the httpx-aiohttp transport for everything else
(and for sinks handed a transport, such as `httpx.MockTransport` in tests).

Classification follows SPEC §5::

    2xx                                        → Sent
    408, 423, 429, 5xx except 501              → Retry       (the caller retries in-process first)
    timeout, connection error                  → Retry
    401, 403                                   → AuthFailed  (never retried, never dead-lettered)
    any other status (other 4xx, 501, 1xx/3xx) → Rejected

Every message carries a short excerpt of the response body or exception text, scrubbed of the
credentials the request carried (`x-api-key`, `Authorization`, and the Basic user/password inside
it) and of anything shaped like a credential.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Iterable, Mapping
from typing import Final

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from processor import __version__
from processor.config.settings import HttpSettings
from processor.errors import ErrorClass, http_error_class
from processor.outcomes import AuthFailed, Outcome, Rejected, Retry, Sent
from processor.runtime.headers import redact
from processor.sinks.backoff import parse_retry_after

RETRYABLE_STATUSES: Final = frozenset({408, 423, 429})
AUTH_STATUSES: Final = frozenset({401, 403})
EXCERPT_CHARS: Final = 200
_SCAN_CHARS: Final = 100_000
USER_AGENT: Final = f"cordial-bridge/{__version__}"
_SECRET_HEADERS: Final = ("x-api-key", "authorization", "proxy-authorization")


def make_client(
    settings: HttpSettings,
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A pooled keep-alive client on the aiohttp transport (httpx's own pool is too slow, SPEC §1).

    Connections are sized from `max_concurrency`, so the AIMD limit, not the pool, decides how many
    requests are in flight. `transport` replaces the network (tests pass `httpx.MockTransport`).
    """
    size = max(1, settings.max_concurrency)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)
    timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
    if transport is None:
        transport = AiohttpTransport(limits=limits, trust_env=False)
    merged = {"User-Agent": USER_AGENT}
    merged.update(headers or {})
    return httpx.AsyncClient(
        base_url=base_url,
        headers=merged,
        auth=auth,
        timeout=timeout,
        limits=limits,
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )


def make_session(settings: HttpSettings, *, headers: Mapping[str, str]) -> aiohttp.ClientSession:
    """The sinks' default: a pooled keep-alive aiohttp session (call inside the running loop).

    Read timeout `timeout_s` (between bytes), connect timeout `connect_timeout_s`, and a hard
    ceiling of both together for the whole request. Pool sized from `max_concurrency`.
    """
    size = max(1, settings.max_concurrency)
    connector = aiohttp.TCPConnector(limit=size, keepalive_timeout=30.0)
    timeout = aiohttp.ClientTimeout(
        total=settings.timeout_s + settings.connect_timeout_s,
        sock_connect=settings.connect_timeout_s,
        sock_read=settings.timeout_s,
    )
    merged = {"User-Agent": USER_AGENT}
    merged.update(headers)
    return aiohttp.ClientSession(
        connector=connector,
        headers=merged,
        timeout=timeout,
        trust_env=False,
        raise_for_status=False,
        cookie_jar=aiohttp.DummyCookieJar(),  # APIs keyed by headers: no cookie work per request
    )


def credential_values(headers: Mapping[str, str]) -> list[str]:
    """The secrets inside a set of request headers, in every form an error might echo them."""
    return _request_secrets(httpx.Request("GET", "http://localhost/", headers=dict(headers)))


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or (status >= 500 and status != 501)


def classify_response(
    response: httpx.Response,
    *,
    action: str | None,
    secrets: Iterable[str] = (),
    now: float | None = None,
) -> Outcome:
    """Map an HTTP answer to an Outcome (the body must already be read)."""
    status = response.status_code
    if 200 <= status < 300:
        return Sent(status=status)
    hidden = [*secrets, *_request_secrets(_request_of(response))]
    message = _response_message(response, action, hidden)
    if status in AUTH_STATUSES:
        return AuthFailed(status=status, message=message)
    if is_retryable_status(status):
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), time.time() if now is None else now
        )
        return Retry(http_error_class(status), message, status=status, retry_after=retry_after)
    return Rejected(http_error_class(status), message, status=status, action=action)


def classify_exception(exc: Exception, *, action: str | None, secrets: Iterable[str] = ()) -> Outcome:
    """Map a failure to get an answer at all to an Outcome: always retryable.

    Timeouts are `timeout`; everything else (refused, reset, protocol errors, a bad URL) is
    `connection`. The aiohttp transport maps some connection errors to `ConnectTimeout`, so the
    underlying aiohttp exception decides where there is one.
    """
    request = exc.request if isinstance(exc, httpx.RequestError) and _has_request(exc) else None
    hidden = [*secrets, *_request_secrets(request)]
    error_class = ErrorClass.TIMEOUT if _is_timeout(exc) else ErrorClass.CONNECTION
    where = f" calling {action}" if action else ""
    detail = _excerpt(str(exc), hidden)
    message = f"{error_class.value}{where}: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return Retry(error_class, message)


CLASSIFIED_EXCEPTIONS: Final = (httpx.HTTPError, OSError, asyncio.TimeoutError, aiohttp.ClientError)
"""Exceptions a request may raise that mean "no usable answer"; anything else is a bug."""


def _is_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else None
    target = cause if isinstance(cause, aiohttp.ClientError) else exc
    # aiohttp's ServerTimeoutError family subclasses asyncio.TimeoutError (= TimeoutError).
    return isinstance(target, httpx.TimeoutException | asyncio.TimeoutError)


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:
        return None


def _request_secrets(request: httpx.Request | None) -> list[str]:
    """The credential values a request carried, in every form they might be echoed back."""
    if request is None:
        return []
    found: list[str] = []
    for name in _SECRET_HEADERS:
        value = request.headers.get(name)
        if not value:
            continue
        found.append(value)
        scheme, _, token = value.partition(" ")
        if token:
            found.append(token)
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    continue
                found.extend(part for part in (user, password) if part)
    # Longest first, so a secret that contains another is removed whole.
    return sorted(set(found), key=len, reverse=True)


def _response_message(response: httpx.Response, action: str | None, secrets: Iterable[str]) -> str:
    where = f" from {action}" if action else ""
    try:
        body = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError, LookupError):
        body = ""
    detail = _excerpt(body, secrets)
    return f"HTTP {response.status_code}{where}" + (f": {detail}" if detail else "")


def _excerpt(text: str, secrets: Iterable[str]) -> str:
    """Whitespace collapsed, secrets removed, cut to `EXCERPT_CHARS`."""
    flat = " ".join(text[:_SCAN_CHARS].split())
    # Redact before truncating so a key cut in half cannot survive.
    clean = redact(flat, [s for s in secrets if s])
    return clean if len(clean) <= EXCERPT_CHARS else clean[: EXCERPT_CHARS - 1] + "…"
