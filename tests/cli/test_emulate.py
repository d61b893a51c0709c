"""`cordial-bridge emulate cordial|segment`: options reach the app; keys come from env or a demo key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from processor.cli import cli
from processor.cli.emulate import DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY
from processor.emulators import serve as serve_module


@pytest.fixture
def served(monkeypatch) -> list[tuple[Any, str, int]]:
    """Capture what the verb would serve instead of blocking on a real server."""
    calls: list[tuple[Any, str, int]] = []
    monkeypatch.setattr(serve_module, "serve", lambda app, host, port: calls.append((app, host, port)))
    return calls


def run(args: list[str], env: dict[str, str | None] | None = None):
    return CliRunner().invoke(cli, ["emulate", *args], env=env or {})


async def get(app: Any, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client:
        return await client.get(path, **kwargs)


class TestEmulateCordial:
    async def test_demo_key_when_env_unset_and_options_applied(self, served):
        result = run(
            ["cordial", "--port", "8123", "--latency-ms", "5", "--rate-429", "0.25", "--retry-after-s", "2"],
            env={"CORDIAL_API_KEY": None},
        )
        assert result.exit_code == 0, result.output
        assert DEMO_CORDIAL_KEY in result.output
        app, host, port = served[0]
        assert (host, port) == ("127.0.0.1", 8123)
        faults = (await get(app, "/_emulator/faults")).json()
        assert (faults["latency_ms"], faults["rate_429"], faults["retry_after_s"]) == (5.0, 0.25, 2.0)
        r = await get(app, "/api/checkAuth", headers={"x-api-key": DEMO_CORDIAL_KEY})
        assert r.status_code in (200, 429)

    async def test_key_from_named_env_var_is_not_printed(self, served):
        result = run(
            ["cordial", "--port", "1", "--host", "0.0.0.0", "--api-key-env", "MY_KEY"],
            env={"MY_KEY": "s3cret-value"},
        )
        assert result.exit_code == 0, result.output
        assert "s3cret-value" not in result.output
        app, host, _ = served[0]
        assert host == "0.0.0.0"
        assert (await get(app, "/api/checkAuth", headers={"x-api-key": "s3cret-value"})).status_code == 200
        assert (await get(app, "/api/checkAuth", headers={"x-api-key": DEMO_CORDIAL_KEY})).status_code == 401

    @pytest.mark.parametrize(
        "bad",
        [["--rate-500", "1.5"], ["--latency-ms", "-1"], [], ["--port", "70000"]],
        ids=["rate", "latency", "no-port", "port"],
    )
    def test_bad_options_are_usage_errors(self, served, bad):
        args = (
            ["cordial", *bad]
            if bad and bad[0] == "--port"
            else ["cordial", *(["--port", "1"] if bad else []), *bad]
        )
        result = run(args)
        assert result.exit_code == 2
        assert served == []

    async def test_known_attributes_option(self, served):
        result = run(
            ["cordial", "--port", "1", "--known-attribute", "fname", "--known-attribute", "lname"],
            env={"CORDIAL_API_KEY": None},
        )
        assert result.exit_code == 0, result.output
        app = served[0][0]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://e",
            headers={"x-api-key": DEMO_CORDIAL_KEY},
        ) as client:
            body = {"segmentId": "u", "attributes": {"fname": "A", "shoe": 9}}
            r = await client.post("/api/segment/upsertContact", json=body)
            assert r.json()["ignoredAttributes"] == ["shoe"]


class TestEmulateSegment:
    async def test_write_key_from_default_env(self, served):
        result = run(
            ["segment", "--port", "9000", "--rate-timeout", "0.1", "--timeout-hang-s", "3"],
            env={"SEGMENT_WRITE_KEY": "wk"},
        )
        assert result.exit_code == 0, result.output
        assert DEMO_SEGMENT_KEY not in result.output
        app, _, port = served[0]
        assert port == 9000
        faults = (await get(app, "/_emulator/faults")).json()
        assert (faults["rate_timeout"], faults["timeout_hang_s"]) == (0.1, 3.0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e") as client:
            await client.post("/_emulator/faults", json={"rate_timeout": 0})
            ok = await client.post("/v1/batch", json={"batch": []}, auth=("wk", ""))
            assert ok.status_code == 200

    def test_demo_write_key_printed_when_unset(self, served):
        result = run(["segment", "--port", "9000"], env={"SEGMENT_WRITE_KEY": None})
        assert result.exit_code == 0
        assert DEMO_SEGMENT_KEY in result.output

    def test_group_lists_both_emulators(self):
        result = run(["--help"])
        assert result.exit_code == 0
        assert "cordial" in result.output
        assert "segment" in result.output
