"""The Segment emulator: auth, size limits, whole-batch 400s, gzip, messageId de-duplication."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from processor.emulators.segment import (
    MAX_BATCH_MESSAGES,
    MAX_MESSAGE_BYTES,
    MAX_REQUEST_BYTES,
    TYPES,
    create_app,
)

KEY = "wk-test"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(write_key=KEY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://segment", auth=(KEY, "")
    ) as c:
        yield c


def track(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": "Email Opened", "anonymousId": f"c{i}", "messageId": f"m{i}", **extra}


async def segment_state(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/_emulator/state")).json()


class TestAuth:
    async def test_basic_auth_with_write_key_as_user(self, client):
        r = await client.post("/v1/batch", json={"batch": [track()]})
        assert r.status_code == 200
        assert r.json() == {"success": True}

    async def test_write_key_in_body(self, client):
        client.auth = None
        r = await client.post("/v1/batch", json={"batch": [track()], "writeKey": KEY})
        assert r.status_code == 200
        r = await client.post("/v1/track", json={**track(1), "writeKey": KEY})
        assert r.status_code == 200
        stored = (await segment_state(client))["messages"]
        assert all("writeKey" not in m for m in stored)

    @pytest.mark.parametrize(
        ("auth", "body_key"),
        [(None, None), (("nope", ""), None), (None, "nope"), (("nope", ""), KEY), ("Bearer wk-test", None)],
        ids=["none", "wrong-basic", "wrong-body", "wrong-basic-beats-body", "bearer"],
    )
    async def test_wrong_or_missing_key_is_401(self, client, auth, body_key):
        client.auth = None
        body: dict[str, Any] = {"batch": [track()]}
        if body_key is not None:
            body["writeKey"] = body_key
        kwargs: dict[str, Any] = {}
        if isinstance(auth, str):
            kwargs["headers"] = {"Authorization": auth}
        elif auth is not None:
            kwargs["auth"] = auth
        r = await client.post("/v1/batch", json=body, **kwargs)
        assert r.status_code == 401
        assert r.json()["success"] is False
        assert (await segment_state(client))["accepted"] == 0

    async def test_received_log_redacts_the_body_write_key(self, client):
        client.auth = None
        await client.post("/v1/batch", json={"batch": [track()], "writeKey": KEY})
        received = (await client.get("/_emulator/received")).json()
        assert KEY not in orjson.dumps(received).decode()


class TestRoutes:
    @pytest.mark.parametrize("kind", TYPES)
    async def test_single_routes_set_the_type(self, client, kind):
        body: dict[str, Any] = {"userId": "u1", "event": "E", "groupId": "g", "previousId": "p"}
        r = await client.post(f"/v1/{kind}", json=body)
        assert r.status_code == 200
        assert (await segment_state(client))["messages"][0]["type"] == kind

    async def test_unknown_single_route_is_404(self, client):
        r = await client.post("/v1/explode", json={"userId": "u"})
        assert r.status_code == 404
        assert r.json()["success"] is False

    async def test_empty_batch_is_accepted(self, client):
        assert (await client.post("/v1/batch", json={"batch": []})).status_code == 200


class TestLimits:
    async def test_request_over_500_kb_is_400(self, client):
        big = [track(i, properties={"pad": "x" * 20_000}) for i in range(27)]
        assert len(orjson.dumps({"batch": big})) > MAX_REQUEST_BYTES
        r = await client.post("/v1/batch", json={"batch": big})
        assert r.status_code == 400
        assert "exceeds" in r.json()["message"]
        assert (await segment_state(client))["accepted"] == 0

    async def test_message_over_32_kb_is_400(self, client):
        r = await client.post(
            "/v1/batch", json={"batch": [track(0), track(1, properties={"pad": "x" * MAX_MESSAGE_BYTES})]}
        )
        assert r.status_code == 400
        assert r.json()["errors"] == [f"batch[1]: message exceeds {MAX_MESSAGE_BYTES} bytes"]
        r = await client.post("/v1/track", json=track(2, properties={"pad": "x" * MAX_MESSAGE_BYTES}))
        assert r.status_code == 400

    async def test_message_just_under_32_kb_is_accepted(self, client):
        msg = track(0, properties={"pad": ""})
        msg["properties"]["pad"] = "x" * (MAX_MESSAGE_BYTES - len(orjson.dumps(msg)))
        assert len(orjson.dumps(msg)) == MAX_MESSAGE_BYTES
        assert (await client.post("/v1/batch", json={"batch": [msg]})).status_code == 200

    async def test_more_than_2500_messages_is_400(self, client):
        tiny = [{"type": "track", "event": "E", "userId": "u"}] * (MAX_BATCH_MESSAGES + 1)
        r = await client.post("/v1/batch", json={"batch": tiny})
        assert r.status_code == 400
        assert "2500" in r.json()["message"]
        r = await client.post("/v1/batch", json={"batch": tiny[:MAX_BATCH_MESSAGES]})
        assert r.status_code == 200


class TestBatchValidation:
    @pytest.mark.parametrize(
        ("bad", "problem"),
        [
            ({"event": "E", "userId": "u"}, "batch[1].type"),
            ({"type": "track", "userId": "u"}, "batch[1].event"),
            ({"type": "track", "event": "E"}, "userId or anonymousId"),
            ({"type": "track", "event": "E", "userId": ""}, "userId or anonymousId"),
            ({"type": "bogus", "userId": "u"}, "batch[1].type"),
            ({"type": "group", "userId": "u"}, "groupId"),
            ({"type": "alias", "userId": "u"}, "previousId"),
            ("not an object", "must be an object"),
        ],
        ids=[
            "no-type",
            "track-no-event",
            "no-ids",
            "empty-user",
            "bad-type",
            "group-no-id",
            "alias-no-prev",
            "scalar",
        ],
    )
    async def test_one_invalid_member_fails_the_whole_batch(self, client, bad, problem):
        r = await client.post("/v1/batch", json={"batch": [track(0), bad, track(2)]})
        assert r.status_code == 400
        assert any(problem in e for e in r.json()["errors"])
        assert (await segment_state(client))["accepted"] == 0

    @pytest.mark.parametrize(
        "content",
        [b"", b"{", b"[]", b"null", b'{"batch": {}}', b'{"batch": "x"}', b'{"nobatch": []}', b"\x00\x01"],
        ids=["empty", "truncated", "array", "null", "batch-object", "batch-string", "no-batch", "binary"],
    )
    async def test_malformed_batch_bodies_are_400_json(self, client, content):
        r = await client.post("/v1/batch", content=content)
        assert r.status_code == 400
        assert r.json()["success"] is False


class TestGzip:
    async def test_gzip_body_accepted(self, client):
        body = gzip.compress(orjson.dumps({"batch": [track(0), track(1)]}))
        r = await client.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 200
        assert (await segment_state(client))["accepted"] == 2
        received = (await client.get("/_emulator/received")).json()["requests"]
        assert received[0]["body"]["batch"][0]["messageId"] == "m0"

    async def test_bad_gzip_is_400(self, client):
        r = await client.post("/v1/batch", content=b"not gzip", headers={"Content-Encoding": "gzip"})
        assert r.status_code == 400
        truncated = gzip.compress(orjson.dumps({"batch": [track()]}))[:-8]
        r = await client.post("/v1/batch", content=truncated, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 400

    async def test_gzip_bomb_is_refused_by_size(self, client):
        bomb = gzip.compress(b'{"batch": [], "pad": "' + b"x" * (MAX_REQUEST_BYTES * 4) + b'"}')
        assert len(bomb) < MAX_REQUEST_BYTES
        r = await client.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 400
        assert "exceeds" in r.json()["message"]


class TestDeduplication:
    async def test_repeated_message_ids_stored_once_and_counted(self, client):
        await client.post("/v1/batch", json={"batch": [track(0), track(1)]})
        await client.post("/v1/batch", json={"batch": [track(1), track(2), track(2)]})
        await client.post("/v1/track", json=track(0))
        s = await segment_state(client)
        assert s["accepted"] == 3
        assert s["duplicates"] == 3
        assert [m["messageId"] for m in s["messages"]] == ["m0", "m1", "m2"]
        assert s["by_event"] == {"Email Opened": 3}

    async def test_messages_without_message_id_are_all_kept(self, client):
        msg = {"type": "track", "event": "E", "userId": "u"}
        await client.post("/v1/batch", json={"batch": [msg, msg]})
        assert (await segment_state(client))["accepted"] == 2

    async def test_reset_forgets_seen_ids(self, client):
        await client.post("/v1/batch", json={"batch": [track(0)]})
        await client.post("/_emulator/reset")
        await client.post("/v1/batch", json={"batch": [track(0)]})
        s = await segment_state(client)
        assert (s["accepted"], s["duplicates"]) == (1, 0)
