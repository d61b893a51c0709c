"""Cordial admin API client: Basic auth, routes, PUT vs POST, clear errors that never show the key."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import httpx
import pytest

from processor.config.classic import parse_integration
from processor.config.secrets import Secret
from processor.config.settings import CordialSettings
from processor.errors import ConfigError
from processor.sinks.cordial_admin import (
    AdminAuthError,
    AdminRejectedError,
    CordialAdminClient,
    CordialAdminError,
)

KEY = "ck-9f8e7d6c5b4a"
TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()
SETTINGS = CordialSettings(admin_endpoint="https://admin.example.test/", api_key=Secret(KEY))
LIVE = {
    "name": "segment",
    "enabled": True,
    "attributeMapping": [{"segmentField": "first_name", "cordialKey": "fname"}],
    "ignoreFields": [],
}


class Recorder:
    """A MockTransport handler answering from a table and keeping every request."""

    def __init__(self, answers: dict[tuple[str, str], httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.get((request.method, request.url.path), httpx.Response(404, json={}))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def client_for(recorder: Recorder) -> CordialAdminClient:
    return CordialAdminClient(SETTINGS, transport=recorder.transport)


class TestRequests:
    async def test_basic_auth_key_as_user_empty_password(self) -> None:
        recorder = Recorder({("GET", "/api/integrations"): httpx.Response(200, json=[LIVE])})
        async with client_for(recorder) as client:
            assert await client.get_segment_integration() == LIVE
        (request,) = recorder.requests
        assert request.url == "https://admin.example.test/api/integrations"
        assert request.headers["authorization"] == f"Basic {TOKEN}"
        assert base64.b64decode(TOKEN).decode() == f"{KEY}:"
        assert request.headers["accept"] == "application/json"

    @pytest.mark.parametrize(
        "answer",
        [
            pytest.param([{"name": "other", "enabled": True}], id="list-without-segment"),
            pytest.param([], id="empty-list"),
            pytest.param(None, id="empty-body"),
        ],
    )
    async def test_no_segment_integration(self, answer: object) -> None:
        response = httpx.Response(200, content=b"" if answer is None else json.dumps(answer).encode())
        recorder = Recorder({("GET", "/api/integrations"): response})
        async with client_for(recorder) as client:
            assert await client.get_segment_integration() is None

    async def test_wrapped_list_is_unwrapped(self) -> None:
        body = {"integrations": [{"name": "other"}, LIVE]}
        recorder = Recorder({("GET", "/api/integrations"): httpx.Response(200, json=body)})
        async with client_for(recorder) as client:
            assert await client.get_segment_integration() == LIVE

    async def test_push_posts_when_absent_puts_when_present_and_skips_when_equal(self) -> None:
        desired = parse_integration(dict(LIVE, ignoreFields=["website"]))
        answers = {
            ("POST", "/api/integrations/segment"): httpx.Response(201, json={}),
            ("PUT", "/api/integrations/segment"): httpx.Response(200, json={}),
        }
        recorder = Recorder(answers)
        async with client_for(recorder) as client:
            recorder.answers[("GET", "/api/integrations")] = httpx.Response(200, json=[])
            await client.push(desired, await client.plan(desired))
            recorder.answers[("GET", "/api/integrations")] = httpx.Response(200, json=[LIVE])
            await client.push(desired, await client.plan(desired))
            recorder.answers[("GET", "/api/integrations")] = httpx.Response(200, json=[desired.to_body()])
            diff = await client.plan(desired)
            assert diff.empty
            await client.push(desired, diff)
        assert [(r.method, r.url.path) for r in recorder.requests] == [
            ("GET", "/api/integrations"),
            ("POST", "/api/integrations/segment"),
            ("GET", "/api/integrations"),
            ("PUT", "/api/integrations/segment"),
            ("GET", "/api/integrations"),
        ]
        assert json.loads(recorder.requests[1].content) == desired.to_body()
        assert recorder.requests[3].headers["content-type"] == "application/json"


def leaky(status: int, extra: Mapping[str, object] | None = None) -> httpx.Response:
    """An error answer that echoes the credentials back, as a careless server might."""
    body = {"message": f"bad key {KEY} (Authorization: Basic {TOKEN})", **(extra or {})}
    return httpx.Response(status, json=body)


class TestErrors:
    @pytest.mark.parametrize("status", [401, 403])
    async def test_auth_rejected(self, status: int) -> None:
        recorder = Recorder({("GET", "/api/integrations"): leaky(status)})
        async with client_for(recorder) as client:
            with pytest.raises(AdminAuthError) as info:
                await client.list_integrations()
        assert info.value.status == status
        message = str(info.value)
        assert message.startswith("the API key was rejected by Cordial's admin API")
        assert f"HTTP {status}" in message
        assert "$CORDIAL_API_KEY" in message
        assert KEY not in message
        assert TOKEN not in message

    async def test_422_lists_the_apis_problems(self) -> None:
        body = {
            "errors": ["enabled: must be true or false", {"field": "ignoreFields[0]", "message": "empty"}]
        }
        recorder = Recorder({("PUT", "/api/integrations/segment"): leaky(422, body)})
        async with client_for(recorder) as client:
            with pytest.raises(AdminRejectedError) as info:
                await client.update_segment_integration({"name": "segment"})
        assert info.value.problems == ("enabled: must be true or false", "ignoreFields[0]: empty")
        assert str(info.value).splitlines() == [
            "Cordial rejected the integration settings "
            "(HTTP 422 from PUT https://admin.example.test/api/integrations/segment)",
            "  - enabled: must be true or false",
            "  - ignoreFields[0]: empty",
        ]

    async def test_422_without_a_list_shows_the_message_without_the_key(self) -> None:
        recorder = Recorder({("POST", "/api/integrations/segment"): leaky(422)})
        async with client_for(recorder) as client:
            with pytest.raises(AdminRejectedError) as info:
                await client.create_segment_integration({})
        message = str(info.value)
        assert "bad key" in message
        assert KEY not in message
        assert TOKEN not in message

    @pytest.mark.parametrize("status", [400, 404, 409, 500, 503])
    async def test_other_statuses(self, status: int) -> None:
        recorder = Recorder({("GET", "/api/integrations"): leaky(status)})
        async with client_for(recorder) as client:
            with pytest.raises(CordialAdminError) as info:
                await client.list_integrations()
        assert type(info.value) is CordialAdminError
        assert info.value.status == status
        assert f"answered HTTP {status} to GET https://admin.example.test/api/integrations" in str(info.value)
        assert KEY not in str(info.value)

    async def test_unreachable(self) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError(f"refused while sending key={KEY}", request=request)

        async with CordialAdminClient(SETTINGS, transport=httpx.MockTransport(refuse)) as client:
            with pytest.raises(CordialAdminError) as info:
                await client.list_integrations()
        assert info.value.status is None
        assert str(info.value).startswith("cannot reach Cordial's admin API (GET https://admin.example.test/")
        assert KEY not in str(info.value)

    async def test_unexpected_list_shape(self) -> None:
        recorder = Recorder({("GET", "/api/integrations"): httpx.Response(200, json="segment")})
        async with client_for(recorder) as client:
            with pytest.raises(CordialAdminError, match="expected a JSON list of integrations"):
                await client.list_integrations()

    def test_missing_key_is_a_config_error_before_any_request(self) -> None:
        recorder = Recorder({})
        with pytest.raises(ConfigError, match="no Cordial API key: set it in the CORDIAL_API_KEY"):
            CordialAdminClient(CordialSettings(), transport=recorder.transport)
        assert recorder.requests == []
