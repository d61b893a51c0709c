"""Smoke test of the benchmark scripts: they run end to end with tiny counts and print their tables.

Figures are not checked (no timing assertions): only that the scripts work, so `make bench` does
not rot. The full benchmark never runs under pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def run(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def test_end_to_end_bench_quick_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    """`bench/run.py --quick` exits 0, prints every row with a verdict column, and writes the JSON."""
    done = run("bench/run.py", "--quick", "--results-dir", str(tmp_path), timeout_s=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for header in ("measure", "inbound", "outbound", "target", "result"):
        assert header in done.stdout
    for row in (
        "processor events/s",
        "naive baseline events/s",
        "ceiling: bare consumer",
        "p99 ms",
        "peak RSS MB",
    ):
        assert row in done.stdout
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert set(latest["results"]) == {"inbound", "outbound"}
    for direction in ("inbound", "outbound"):
        processor = latest["results"][direction]["processor"]
        assert processor["delivered"] > 0
        assert processor["peak_rss_mb"] is not None
    verdicts = {(t["target"], t["direction"]): t["verdict"] for t in latest["targets"]}
    assert set(verdicts.values()) <= {"PASS", "MISS", "n/a"}
    assert ("events_per_s", "inbound") in verdicts


def test_translate_bench_runs_on_a_small_corpus() -> None:
    """`bench/translate.py --events 50` exits 0 and prints its table header."""
    done = run("bench/translate.py", "--events", "50", timeout_s=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "case" in done.stdout
    assert "events/s" in done.stdout
    assert "inbound json" in done.stdout
