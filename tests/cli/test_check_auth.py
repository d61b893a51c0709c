"""`cordial-bridge check-auth` against the emulators: PASS/FAIL lines and exit codes 0/1/2."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from processor.cli import cli
from processor.emulators import cordial as cordial_emulator
from processor.emulators import segment as segment_emulator
from processor.emulators.serve import RunningServer, start_in_thread

API_KEY = "ck_live_SECRET_cli_key_0123456789"
WRITE_KEY = "wk_SECRET_cli_write_key_abcdef"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    with (
        start_in_thread(cordial_emulator.create_app(api_key=API_KEY)) as cordial,
        start_in_thread(segment_emulator.create_app(write_key=WRITE_KEY)) as segment,
    ):
        yield cordial, segment


def write_config(path: Path, cordial_url: str, segment_url: str) -> Path:
    config = path / "bridge.yaml"
    config.write_text(
        f"cordial:\n  endpoint: {cordial_url}\n  http:\n    in_process_attempts: 1\n"
        f"segment:\n  endpoint: {segment_url}\n  http:\n    in_process_attempts: 1\n"
    )
    return config


@pytest.fixture
def config(tmp_path: Path, servers: tuple[RunningServer, RunningServer]) -> Path:
    cordial, segment = servers
    return write_config(tmp_path, cordial.url, segment.url)


def run(config: Path, *args: str, api_key: str | None = API_KEY, write_key: str | None = WRITE_KEY) -> Result:
    env = {"CORDIAL_API_KEY": api_key, "SEGMENT_WRITE_KEY": write_key, "CORDIAL_BRIDGE_CONFIG": None}
    return CliRunner().invoke(cli, ["check-auth", "--config", str(config), *args], env=env)


def output_of(result: Result) -> str:
    return result.stdout + result.stderr


def test_both_keys_pass(config: Path) -> None:
    result = run(config)
    assert result.exit_code == 0, output_of(result)
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["PASS", "cordial"], ["PASS", "segment"]]
    assert "only a 401/403" in lines[1]


def test_wrong_cordial_key_fails_with_exit_1(config: Path) -> None:
    result = run(config, api_key="wrong-cordial-key-42")
    assert result.exit_code == 1
    assert "FAIL  cordial" in result.stdout
    assert "PASS  segment" in result.stdout
    assert "401" in result.stdout
    assert "wrong-cordial-key-42" not in output_of(result)


def test_wrong_segment_key_fails_with_exit_1(config: Path) -> None:
    result = run(config, "--direction", "outbound", write_key="wrong-write-key-42")
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL  segment")
    assert "cordial" not in result.stdout
    assert "wrong-write-key-42" not in output_of(result)


def test_one_direction_needs_only_its_key(config: Path) -> None:
    result = run(config, "--direction", "inbound", write_key=None)
    assert result.exit_code == 0, output_of(result)
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [["PASS", "cordial"]]


@pytest.mark.parametrize(
    ("direction", "api_key", "write_key", "named"),
    [
        ("both", None, WRITE_KEY, "CORDIAL_API_KEY"),
        ("outbound", API_KEY, None, "SEGMENT_WRITE_KEY"),
        ("both", None, None, "SEGMENT_WRITE_KEY"),
    ],
)
def test_missing_key_exits_2(config: Path, direction: str, api_key, write_key, named: str) -> None:
    result = run(config, "--direction", direction, api_key=api_key, write_key=write_key)
    assert result.exit_code == 2
    assert named in result.stderr
    assert result.stdout == ""


def test_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cordial:\n  endpoint: [unclosed\n")
    result = run(bad)
    assert result.exit_code == 2
    assert "config error" in result.stderr


def test_unreachable_endpoint_fails_with_exit_1(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    result = run(config)
    assert result.exit_code == 1
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["FAIL", "cordial"],
        ["FAIL", "segment"],
    ]
    assert "connection" in result.stdout
    assert API_KEY not in output_of(result)
    assert WRITE_KEY not in output_of(result)


def test_help_explains_segment_leniency() -> None:
    result = CliRunner().invoke(cli, ["check-auth", "--help"])
    assert result.exit_code == 0
    assert "Segment accepts most write keys" in result.stdout
