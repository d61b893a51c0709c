"""`cordial-bridge cordial-integration show|apply`: create, update, no difference, dry run, bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from processor.cli import cli

KEY = "ck-5e4d3c2b1a"
SEED_000 = {
    "name": "segment",
    "enabled": True,
    "attributeMapping": [
        {"segmentField": "first_name", "cordialKey": "fname"},
        {"segmentField": "address.state", "cordialKey": "state"},
    ],
    "ignoreFields": ["website"],
    "contactsErrorHandling": "ignoreMissingAttributes",
}


class FakeAdminApi:
    """Just enough of Cordial's admin API: Basic auth, a stored segment integration, 409/404."""

    def __init__(self, key: str = KEY) -> None:
        self.expected = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.stored: dict[str, object] | None = None
        self.calls: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != self.expected:
            return httpx.Response(401, json={"error": True, "message": "Unauthorized"})
        if request.method == "GET":
            return httpx.Response(200, json=[] if self.stored is None else [self.stored])
        if (request.method == "POST") == (self.stored is not None):
            return httpx.Response(409 if request.method == "POST" else 404, json={"message": "wrong verb"})
        self.stored = json.loads(request.content)
        return httpx.Response(201 if request.method == "POST" else 200, json=self.stored)

    @property
    def writes(self) -> list[str]:
        return [method for method, _ in self.calls if method != "GET"]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text("cordial:\n  admin_endpoint: https://admin.example.test\n")
    return path


def write(tmp_path: Path, data: object, name: str = "cordial.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def invoke(args: list[str], api: FakeAdminApi | None, config: Path, key: str = KEY) -> Result:
    obj = {} if api is None else {"cordial_admin_transport": httpx.MockTransport(api)}
    return CliRunner().invoke(
        cli, ["cordial-integration", *args, "--config", str(config)], obj=obj, env={"CORDIAL_API_KEY": key}
    )


class TestApply:
    def test_create_then_no_difference_then_update(self, tmp_path: Path, config: Path) -> None:
        """POST when absent; an unchanged file sends nothing; a changed file is PUT."""
        api = FakeAdminApi()
        file = write(tmp_path, SEED_000)

        created = invoke(["apply", str(file)], api, config)
        assert created.exit_code == 0, created.output
        assert "it will be created (POST)" in created.stdout
        assert "+ first_name → fname" in created.stdout
        assert "Created the Segment integration." in created.stdout
        assert api.writes == ["POST"]
        assert api.stored == SEED_000

        same = invoke(["apply", str(file)], api, config)
        assert same.exit_code == 0, same.output
        assert "No difference" in same.stdout
        assert "Nothing sent." in same.stdout
        assert api.writes == ["POST"]

        changed = dict(SEED_000, attributeMapping=[{"segmentField": "first_name", "cordialKey": "given"}])
        updated = invoke(["apply", str(write(tmp_path, changed, "v2.json"))], api, config)
        assert updated.exit_code == 0, updated.output
        assert "~ first_name → given (was fname)" in updated.stdout
        assert "- address.state → state" in updated.stdout
        assert "Updated the Segment integration." in updated.stdout
        assert api.writes == ["POST", "PUT"]
        assert api.stored == changed

    @pytest.mark.parametrize("exists", [False, True], ids=["absent", "present"])
    def test_dry_run_sends_nothing(self, tmp_path: Path, config: Path, exists: bool) -> None:
        api = FakeAdminApi()
        if exists:
            api.stored = dict(SEED_000, enabled=False)
        result = invoke(["apply", str(write(tmp_path, SEED_000)), "--dry-run"], api, config)
        assert result.exit_code == 0, result.output
        method = "PUT" if exists else "POST"
        assert f"Dry run: nothing sent (apply would {method} https://admin.example.test/api/" in result.stdout
        assert ("enabled: false → true" in result.stdout) is exists
        assert api.calls == [("GET", "/api/integrations")]

    def test_bad_file_rejected_before_any_request(self, tmp_path: Path, config: Path) -> None:
        api = FakeAdminApi()
        bad = {"enabled": "true", "attributeMapping": [{"segmentField": "email"}], "ignoreFields": [""]}
        result = invoke(["apply", str(write(tmp_path, bad))], api, config)
        assert result.exit_code == 2
        assert "invalid Cordial integration file (3 problems)" in result.stderr
        assert "$.enabled: expected true or false" in result.stderr
        assert "$.attributeMapping[0].cordialKey: missing" in result.stderr
        assert "$.ignoreFields[0]: must not be empty" in result.stderr
        assert api.calls == []

    def test_missing_file_is_exit_2(self, tmp_path: Path, config: Path) -> None:
        api = FakeAdminApi()
        result = invoke(["apply", str(tmp_path / "nope.json")], api, config)
        assert result.exit_code == 2
        assert "cannot read Cordial integration file" in result.stderr
        assert api.calls == []

    def test_auth_failure_exit_1_without_the_key(self, tmp_path: Path, config: Path) -> None:
        api = FakeAdminApi(key="the-right-key")
        result = invoke(["apply", str(write(tmp_path, SEED_000))], api, config, key=KEY)
        assert result.exit_code == 1
        assert "error: the API key was rejected by Cordial's admin API (HTTP 401" in result.stderr
        assert KEY not in result.output
        assert api.writes == []

    def test_missing_key_exit_2(self, tmp_path: Path, config: Path) -> None:
        api = FakeAdminApi()
        result = invoke(["apply", str(write(tmp_path, SEED_000))], api, config, key="")
        assert result.exit_code == 2
        assert "no Cordial API key" in result.stderr
        assert api.calls == []

    def test_api_rejection_is_exit_1(self, tmp_path: Path, config: Path) -> None:
        def reject(request: httpx.Request) -> httpx.Response:
            if request.method == "GET":
                return httpx.Response(200, json=[])
            return httpx.Response(422, json={"errors": ["ignoreFields[0]: not allowed"]})

        obj = {"cordial_admin_transport": httpx.MockTransport(reject)}
        args = ["cordial-integration", "apply", str(write(tmp_path, SEED_000)), "--config", str(config)]
        result = CliRunner().invoke(cli, args, obj=obj, env={"CORDIAL_API_KEY": KEY})
        assert result.exit_code == 1
        assert "Cordial rejected the integration settings (HTTP 422" in result.stderr
        assert "- ignoreFields[0]: not allowed" in result.stderr


class TestShow:
    def test_prints_live_json(self, config: Path) -> None:
        api = FakeAdminApi()
        api.stored = SEED_000
        result = invoke(["show"], api, config)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == SEED_000

    def test_all(self, config: Path) -> None:
        api = FakeAdminApi()
        api.stored = SEED_000
        result = invoke(["show", "--all"], api, config)
        assert json.loads(result.stdout) == [SEED_000]

    def test_none_live(self, config: Path) -> None:
        result = invoke(["show"], FakeAdminApi(), config)
        assert result.exit_code == 0
        assert result.stdout == ""
        assert "No Segment integration is set up" in result.stderr

    def test_auth_failure(self, config: Path) -> None:
        result = invoke(["show"], FakeAdminApi(key="other"), config)
        assert result.exit_code == 1
        assert "the API key was rejected" in result.stderr
        assert KEY not in result.output


class TestAgainstTheEmulator:
    """A real socket round trip: the CLI on the aiohttp transport against the Cordial emulator."""

    @pytest.fixture
    def emulator_config(self, tmp_path: Path) -> Iterator[Path]:
        from processor.emulators.cordial import create_app
        from processor.emulators.serve import start_in_thread

        server = start_in_thread(create_app(api_key=KEY))
        path = tmp_path / "emulated.yaml"
        path.write_text(f"cordial:\n  admin_endpoint: {server.url}\n")
        try:
            yield path
        finally:
            server.stop()

    def test_create_show_update_no_difference(self, tmp_path: Path, emulator_config: Path) -> None:
        file = write(tmp_path, SEED_000)
        created = invoke(["apply", str(file)], None, emulator_config)
        assert created.exit_code == 0, created.output
        assert "Created the Segment integration." in created.stdout

        shown = invoke(["show"], None, emulator_config)
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout) == SEED_000

        again = invoke(["apply", str(file)], None, emulator_config)
        assert "Nothing sent." in again.stdout

        changed = {k: v for k, v in SEED_000.items() if k != "contactsErrorHandling"} | {"ignoreFields": []}
        updated = invoke(["apply", str(write(tmp_path, changed, "v2.json"))], None, emulator_config)
        assert updated.exit_code == 0, updated.output
        assert "- website" in updated.stdout
        assert 'contactsErrorHandling: "ignoreMissingAttributes" → (not set)' in updated.stdout
        assert "Updated the Segment integration." in updated.stdout
        assert json.loads(invoke(["show"], None, emulator_config).stdout) == changed

    def test_wrong_key(self, tmp_path: Path, emulator_config: Path) -> None:
        result = invoke(["apply", str(write(tmp_path, SEED_000))], None, emulator_config, key="nope-123456")
        assert result.exit_code == 1
        assert "the API key was rejected by Cordial's admin API (HTTP 401" in result.stderr
        assert "nope-123456" not in result.output
