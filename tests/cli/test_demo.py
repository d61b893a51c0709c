"""`cordial-bridge demo`: runs end to end with a tiny event count, prints the summary, exits 0, and
leaves nothing running (the embedded broker's port is free again)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from processor.cli import cli


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.mark.kafka
def test_demo_runs_and_exits_cleanly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "processor", "demo", "--events", "6", "--timeout", "90"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "all records accounted for" in out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.startswith(("inbound ", "outbound ")) and line.split()[1].isdigit()
    }
    assert set(rows) == {"inbound", "outbound"}
    for direction, row in rows.items():
        published, delivered, _retried, dead, blocked = row[1:6]
        done, predicted = delivered.split("/")
        assert done == predicted, f"{direction}: every predicted delivery arrived"
        assert int(published) == 6 + 4, "the good records plus the four deliberate failures"
        assert int(dead) >= 2, "the poison records were dead-lettered"
        assert blocked == "1", "the recursion record was blocked"
    assert re.search(r"^metrics: http://127\.0\.0\.1:\d+/metrics$", out, re.M)
    broker = re.search(r"^broker (\S+):(\d+) ", out, re.M)
    assert broker is not None
    assert not _listening(broker.group(1), int(broker.group(2))), "the embedded broker was stopped"


def test_demo_rejects_bad_options() -> None:
    result = CliRunner().invoke(cli, ["demo", "--events", "-1"])
    assert result.exit_code == 2
    assert "--events" in result.output


def test_demo_help_names_its_options() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--events", "--metrics-port", "--keep-running"):
        assert option in result.output


def test_demo_failure_is_reported_with_exit_1(monkeypatch) -> None:
    """A broker that will not start ends the demo with a message and exit 1, not a traceback."""
    import processor.demo.run as demo_run
    from processor.errors import WorkerError

    def broken(options, echo):
        raise WorkerError("the embedded broker exited with 1")

    monkeypatch.setattr(demo_run, "run_demo", broken)
    result = CliRunner().invoke(cli, ["demo", "--events", "1"])
    assert result.exit_code == 1
    assert "demo failed: the embedded broker exited with 1" in result.output


@pytest.mark.kafka
def test_keep_running_stays_up_until_ctrl_c_then_stops_everything() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "processor", "demo", "--events", "2", "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "press Ctrl-C" in line:
                break
        out = "".join(lines)
        assert "press Ctrl-C" in out, out
        metrics = re.search(r"^metrics: http://(\S+):(\d+)/metrics$", out, re.M)
        assert metrics is not None
        assert _listening(metrics.group(1), int(metrics.group(2))), "still serving after the summary"
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0
    assert "stopping; the counts as they stand now:" in rest
    broker = re.search(r"^broker (\S+):(\d+) ", out, re.M)
    assert broker is not None
    assert not _listening(broker.group(1), int(broker.group(2)))
    assert not _listening(metrics.group(1), int(metrics.group(2)))
