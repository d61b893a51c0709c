"""The Cordial emulator's integration-configuration routes (SPEC §3.4, seed 000)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from processor.emulators.cordial import create_app

KEY = "admin-key"
SEED_BODY = {
    "name": "segment",
    "enabled": True,
    "attributeMapping": [
        {"segmentField": "first_name", "cordialKey": "fname"},
        {"segmentField": "user_id", "cordialKey": "extid"},
        {"segmentField": "address.state", "cordialKey": "state"},
        {"segmentField": "email", "cordialKey": "channels.email.address"},
    ],
    "ignoreFields": ["website"],
    "contactsErrorHandling": "ignoreMissingAttributes",
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_key=KEY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://admin", auth=(KEY, "")
    ) as c:
        yield c


class TestIntegrationRoutes:
    async def test_create_then_get_then_update(self, client):
        """POST creates (201), GET lists it, PUT replaces it; state shows the live config."""
        r = await client.get("/api/integrations")
        assert r.status_code == 200
        assert r.json() == []
        r = await client.post("/api/integrations/segment", json=SEED_BODY)
        assert r.status_code == 201
        assert r.json() == SEED_BODY
        assert (await client.get("/api/integrations")).json() == [SEED_BODY]
        changed = {"name": "segment", "enabled": False, "attributeMapping": []}
        r = await client.put("/api/integrations/segment", json=changed)
        assert r.status_code == 200
        live = {"name": "segment", "enabled": False, "attributeMapping": [], "ignoreFields": []}
        assert r.json() == live
        assert (await client.get("/api/integrations")).json() == [live]
        assert (await client.get("/_emulator/state")).json()["integrations"] == [live]

    async def test_post_twice_is_409_and_put_before_post_is_404(self, client):
        r = await client.put("/api/integrations/segment", json=SEED_BODY)
        assert r.status_code == 404
        assert r.json()["error"] is True
        assert (await client.post("/api/integrations/segment", json=SEED_BODY)).status_code == 201
        r = await client.post("/api/integrations/segment", json=SEED_BODY)
        assert r.status_code == 409
        assert r.json()["error"] is True

    @pytest.mark.parametrize(
        "auth",
        [None, ("wrong", ""), (KEY, "a-password"), "Bearer admin-key", "Basic !!notbase64"],
        ids=["none", "wrong-user", "non-empty-password", "bearer", "garbage"],
    )
    async def test_bad_basic_auth_is_401(self, client, auth):
        client.auth = None
        headers = {}
        kwargs = {}
        if isinstance(auth, str):
            headers["Authorization"] = auth
        elif auth is not None:
            kwargs["auth"] = auth
        for method in ("GET", "POST", "PUT"):
            path = "/api/integrations" if method == "GET" else "/api/integrations/segment"
            r = await client.request(method, path, json=SEED_BODY, headers=headers, **kwargs)
            assert r.status_code == 401, method
            assert r.json()["error"] is True

    async def test_x_api_key_is_not_admin_auth(self, client):
        client.auth = None
        r = await client.get("/api/integrations", headers={"x-api-key": KEY})
        assert r.status_code == 401

    async def test_invalid_body_is_422_listing_every_problem(self, client):
        body = {
            "name": "klaviyo",
            "enabled": "yes",
            "attributeMapping": [
                {"segmentField": "", "cordialKey": 3},
                "x",
                {"segmentField": "a", "cordialKey": "b", "z": 1},
            ],
            "ignoreFields": ["ok", 5],
            "contactsErrorHandling": "explode",
            "extra": 1,
        }
        r = await client.post("/api/integrations/segment", json=body)
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert set(errors) == {
            "extra: unknown field",
            'name: must be "segment"',
            "enabled: must be true or false",
            "attributeMapping[0].segmentField: must be a non-empty string",
            "attributeMapping[0].cordialKey: must be a non-empty string",
            "attributeMapping[1]: must be an object",
            "attributeMapping[2].z: unknown field",
            "ignoreFields[1]: must be a non-empty string",
            'contactsErrorHandling: must be "ignoreMissingAttributes" or absent',
        }
        assert (await client.get("/api/integrations")).json() == []

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "segment", "enabled": True, "attributeMapping": {}},
            {"name": "segment", "enabled": True, "ignoreFields": "website"},
        ],
    )
    async def test_wrong_container_types_are_422(self, client, body):
        r = await client.post("/api/integrations/segment", json=body)
        assert r.status_code == 422

    async def test_bad_json_is_400(self, client):
        r = await client.post("/api/integrations/segment", content=b"{nope")
        assert r.status_code == 400
        assert r.json()["error"] is True

    async def test_reset_clears_integrations(self, client):
        await client.post("/api/integrations/segment", json=SEED_BODY)
        await client.post("/_emulator/reset")
        assert (await client.get("/api/integrations")).json() == []
