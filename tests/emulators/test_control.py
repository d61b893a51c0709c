"""The inspection endpoint: order, counts, since/limit paging, reset, and no secrets in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from processor.emulators.cordial import create_app
from processor.emulators.recorder import Recorder

KEY = "secret-cordial-key-123"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_key=KEY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
    ) as c:
        yield c


async def send_five(client: httpx.AsyncClient) -> None:
    for i in range(4):
        await client.post("/api/segment/upsertContact", json={"segmentId": f"u{i}"})
    await client.post("/api/segment/upsertContact", content=b"{broken")


class TestReceived:
    async def test_requests_in_arrival_order_with_counts_and_status(self, client):
        await client.get("/api/checkAuth")
        await send_five(client)
        view = (await client.get("/_emulator/received")).json()
        assert view["count"] == 6
        assert view["by_path"] == {"/api/checkAuth": 1, "/api/segment/upsertContact": 5}
        requests = view["requests"]
        assert [r["seq"] for r in requests] == [1, 2, 3, 4, 5, 6]
        assert [r["body"]["segmentId"] for r in requests[1:5]] == ["u0", "u1", "u2", "u3"]
        assert requests[0]["method"] == "GET"
        assert requests[0]["body"] is None
        assert requests[5]["body"] == "{broken"
        assert [r["status"] for r in requests] == [200, 200, 200, 200, 200, 400]
        assert all(r["received_at"].endswith("Z") for r in requests)

    async def test_since_and_limit_page_through(self, client):
        await send_five(client)
        page = (await client.get("/_emulator/received", params={"since": 2, "limit": 2})).json()
        assert [r["seq"] for r in page["requests"]] == [3, 4]
        assert page["count"] == 5
        rest = (await client.get("/_emulator/received", params={"since": 4})).json()
        assert [r["seq"] for r in rest["requests"]] == [5]
        none = (await client.get("/_emulator/received", params={"since": 99})).json()
        assert none["requests"] == []

    @pytest.mark.parametrize("params", [{"since": "x"}, {"limit": "1.5"}, {"since": "-1"}])
    async def test_bad_paging_parameters_are_400(self, client, params):
        r = await client.get("/_emulator/received", params=params)
        assert r.status_code == 400
        assert r.json()["error"] is True

    async def test_auth_headers_are_never_recorded(self, client):
        await send_five(client)
        await client.get("/api/checkAuth", headers={"x-api-key": "wrong-key-456"})
        dump = (await client.get("/_emulator/received")).content.decode()
        assert KEY not in dump
        assert "wrong-key-456" not in dump

    async def test_reset_clears_log_and_state(self, client):
        await send_five(client)
        r = await client.post("/_emulator/reset")
        assert r.status_code == 200
        view = (await client.get("/_emulator/received")).json()
        assert view == {"count": 0, "dropped": 0, "by_path": {}, "requests": []}
        assert (await client.get("/_emulator/state")).json()["contacts"] == []
        await client.get("/api/checkAuth")
        assert (await client.get("/_emulator/received")).json()["requests"][0]["seq"] == 1


class TestRecorderBounds:
    def test_oldest_entries_are_dropped_but_counted(self):
        recorder = Recorder(max_entries=3)
        for i in range(5):
            recorder.begin("POST", "/p", orjson.dumps({"i": i}))
        view = recorder.view()
        assert view["count"] == 5
        assert [r["seq"] for r in view["requests"]] == [3, 4, 5]
        assert [r["seq"] for r in recorder.view(since=1)["requests"]] == [3, 4, 5]
        assert [r["seq"] for r in recorder.view(since=4)["requests"]] == [5]
        assert [r["seq"] for r in recorder.view(since=3, limit=1)["requests"]] == [4]

    def test_byte_budget_drops_oldest_bodies(self):
        """Large bodies are bounded by bytes too, so big Segment batches cannot exhaust memory."""
        recorder = Recorder(max_entries=100, max_bytes=250)
        for _ in range(5):
            recorder.begin("POST", "/v1/batch", b"x" * 100)
        view = recorder.view()
        assert view["count"] == 5
        assert view["dropped"] == 3
        assert [r["seq"] for r in view["requests"]] == [4, 5]

    def test_replaced_body_counts_against_the_budget(self):
        recorder = Recorder(max_entries=100, max_bytes=250)
        first = recorder.begin("POST", "/v1/batch", b"x")
        second = recorder.begin("POST", "/v1/batch", b"y")
        recorder.set_body(second, b"z" * 200)
        recorder.set_body(first, b"w" * 100)
        assert [r["seq"] for r in recorder.view()["requests"]] == [2]


class TestBodyCap:
    async def test_oversized_body_is_400_without_reaching_the_handler(self):
        app = create_app(api_key=KEY, max_body_bytes=1000)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            big = {"segmentId": "u", "attributes": {"pad": "x" * 2000}}
            r = await client.post("/api/segment/upsertContact", json=big)
            assert r.status_code == 400
            assert "exceeds 1000 bytes" in r.json()["message"]
            assert (await client.get("/_emulator/state")).json()["contacts"] == []
            received = (await client.get("/_emulator/received")).json()["requests"]
            assert received[0]["status"] == 400
            assert received[0]["body"] is None

    async def test_chunked_body_without_length_is_capped_too(self):
        app = create_app(api_key=KEY, max_body_bytes=1000)

        async def chunks():
            for _ in range(5):
                yield b"x" * 400

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", headers={"x-api-key": KEY}
        ) as client:
            r = await client.post("/api/segment/upsertContact", content=chunks())
            assert r.status_code == 400
