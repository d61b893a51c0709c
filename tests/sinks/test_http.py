"""Status codes and exceptions → Outcomes (SPEC §5), with secrets kept out of every message."""

from __future__ import annotations

import base64

import aiohttp
import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from processor.config.settings import HttpSettings
from processor.errors import ErrorClass
from processor.outcomes import AuthFailed, Rejected, Retry, Sent
from processor.sinks.http import EXCERPT_CHARS, classify_exception, classify_response, make_client

KEY = "ck_live_SECRET_api_key_0123456789"


def response(status: int, body: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request(
        "POST", "https://ingest.test/api/segment/upsertContact", headers={"x-api-key": KEY}
    )
    return httpx.Response(status, text=body, headers=headers, request=request)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_sent(status: int) -> None:
    assert classify_response(response(status), action="upsertContact") == Sent(status=status)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (408, ErrorClass.HTTP_4XX),
        (423, ErrorClass.HTTP_4XX),
        (429, ErrorClass.HTTP_429),
        (500, ErrorClass.HTTP_5XX),
        (502, ErrorClass.HTTP_5XX),
        (503, ErrorClass.HTTP_5XX),
        (504, ErrorClass.HTTP_5XX),
        (599, ErrorClass.HTTP_5XX),
    ],
)
def test_retryable_statuses(status: int, error_class: ErrorClass) -> None:
    outcome = classify_response(response(status, "busy"), action="upsertContact")
    assert isinstance(outcome, Retry)
    assert (outcome.error_class, outcome.status) == (error_class, status)
    assert outcome.message == f"HTTP {status} from upsertContact: busy"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses(status: int) -> None:
    outcome = classify_response(response(status, '{"error":"bad key"}'), action="upsertContact")
    assert isinstance(outcome, AuthFailed)
    assert outcome.status == status
    assert "bad key" in outcome.message


@pytest.mark.parametrize("status", [400, 404, 405, 409, 410, 413, 422, 501, 302, 101])
def test_permanent_statuses(status: int) -> None:
    outcome = classify_response(response(status, "nope"), action="upsertOrder")
    assert isinstance(outcome, Rejected)
    assert outcome.status == status
    assert outcome.action == "upsertOrder"
    expected = ErrorClass.HTTP_5XX if status == 501 else ErrorClass.HTTP_4XX
    assert outcome.error_class == expected


def test_retry_after_seconds_and_date() -> None:
    seconds = classify_response(response(429, headers={"Retry-After": "3"}), action=None, now=1000.0)
    date = classify_response(
        response(503, headers={"Retry-After": "Thu, 01 Jan 1970 00:16:50 GMT"}), action=None, now=1000.0
    )
    assert isinstance(seconds, Retry)
    assert isinstance(date, Retry)
    assert (seconds.retry_after, date.retry_after) == (3.0, 10.0)
    assert classify_response(response(503), action=None).retry_after is None  # type: ignore[union-attr]


def test_body_excerpt_is_short_and_single_line() -> None:
    outcome = classify_response(response(400, "line one\n\n  line two " + "x" * 5000), action="a")
    assert isinstance(outcome, Rejected)
    assert "line one line two" in outcome.message
    assert len(outcome.message) < EXCERPT_CHARS + 40


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"invalid key {KEY}", id="echoed-key"),
        pytest.param(f'{{"headers": {{"x-api-key": "{KEY}"}}}}', id="echoed-header"),
        pytest.param("x" * 190 + KEY, id="key-across-the-cut"),
        pytest.param("api_key=other-secret-value", id="credential-shaped"),
    ],
)
def test_secrets_never_in_response_messages(body: str) -> None:
    for status in (400, 401, 429, 500):
        outcome = classify_response(response(status, body), action="a")
        message = outcome.message  # type: ignore[union-attr]
        assert KEY not in message
        assert KEY[:12] not in message
        assert "other-secret-value" not in message


def test_basic_auth_user_and_password_are_redacted() -> None:
    token = base64.b64encode(b"wk_SECRET_write:pw_SECRET_pass").decode()
    request = httpx.Request("POST", "https://seg.test/v1/batch", headers={"Authorization": f"Basic {token}"})
    body = f"write key wk_SECRET_write refused; password pw_SECRET_pass; header Basic {token}"
    outcome = classify_response(httpx.Response(400, text=body, request=request), action="batch")
    for secret in ("wk_SECRET_write", "pw_SECRET_pass", token):
        assert secret not in outcome.message  # type: ignore[union-attr]


def test_extra_secrets_are_redacted_without_a_request() -> None:
    bare = httpx.Response(500, text=f"oops {KEY}")
    outcome = classify_response(bare, action=None, secrets=[KEY])
    assert KEY not in outcome.message  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("exc", "error_class"),
    [
        (httpx.ReadTimeout("read timed out"), ErrorClass.TIMEOUT),
        (httpx.ConnectTimeout("connect timed out"), ErrorClass.TIMEOUT),
        (httpx.PoolTimeout("pool"), ErrorClass.TIMEOUT),
        (httpx.WriteTimeout("write"), ErrorClass.TIMEOUT),
        (TimeoutError(), ErrorClass.TIMEOUT),
        (httpx.ConnectError("refused"), ErrorClass.CONNECTION),
        (httpx.ReadError("reset by peer"), ErrorClass.CONNECTION),
        (httpx.RemoteProtocolError("bad status line"), ErrorClass.CONNECTION),
        (ConnectionResetError(104, "reset"), ErrorClass.CONNECTION),
        (aiohttp.ServerDisconnectedError(), ErrorClass.CONNECTION),
    ],
)
def test_exceptions_are_retryable(exc: Exception, error_class: ErrorClass) -> None:
    outcome = classify_exception(exc, action="upsertContact")
    assert isinstance(outcome, Retry)
    assert outcome.error_class == error_class
    assert outcome.status is None
    assert type(exc).__name__ in outcome.message


def test_aiohttp_disconnect_mapped_to_connect_timeout_is_a_connection_error() -> None:
    """httpx-aiohttp maps every ClientConnectionError to ConnectTimeout; the cause decides."""
    mapped = httpx.ConnectTimeout("Server disconnected")
    mapped.__cause__ = aiohttp.ServerDisconnectedError()
    assert classify_exception(mapped, action=None).error_class == ErrorClass.CONNECTION  # type: ignore[union-attr]
    timed_out = httpx.ReadTimeout("Timeout on reading data from socket")
    timed_out.__cause__ = aiohttp.SocketTimeoutError()
    assert classify_exception(timed_out, action=None).error_class == ErrorClass.TIMEOUT  # type: ignore[union-attr]


def test_secrets_never_in_exception_messages() -> None:
    request = httpx.Request("POST", f"https://u:{KEY}@ingest.test/api?key={KEY}", headers={"x-api-key": KEY})
    exc = httpx.ConnectError(f"failed POST https://ingest.test/?key={KEY} headers={{'x-api-key': '{KEY}'}}")
    exc.request = request
    outcome = classify_exception(exc, action="upsertContact")
    assert KEY not in outcome.message  # type: ignore[union-attr]
    bare = httpx.ReadError(f"x-api-key: {KEY}")  # no request attached
    assert KEY not in classify_exception(bare, action=None).message  # type: ignore[union-attr]
    assert KEY not in classify_exception(OSError(f"key {KEY}"), action=None, secrets=[KEY]).message  # type: ignore[union-attr]


async def test_make_client_defaults() -> None:
    settings = HttpSettings(timeout_s=7.0, connect_timeout_s=2.0, max_concurrency=33)
    client = make_client(settings, base_url="http://x.test", headers={"x-api-key": KEY})
    try:
        transport = client._transport  # the default transport is the point of the test
        assert isinstance(transport, AiohttpTransport)
        assert transport.limits.max_connections == 33
        assert transport.limits.max_keepalive_connections == 33
        assert client.timeout == httpx.Timeout(7.0, connect=2.0)
        assert client.headers["x-api-key"] == KEY
        assert client.headers["user-agent"].startswith("cordial-bridge/")
        assert not client.follow_redirects
    finally:
        await client.aclose()


async def test_make_client_takes_a_transport() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with make_client(
        HttpSettings(), base_url="http://x.test/base", transport=httpx.MockTransport(handler)
    ) as client:
        assert (await client.get("/ping")).status_code == 204
    assert str(seen[0].url) == "http://x.test/base/ping"
