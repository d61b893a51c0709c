"""The chaos suite's options, scale, and the accounting table printed at the end of the session.

`--chaos-full` (what `make chaos` passes) runs every scenario at full size; without it each runs
its small-count version (part of `make test`). Every scenario appends its accounting row; the
terminal summary prints the table and writes it to `tests/chaos/results/latest.md` and `.json`
(full runs) or `latest-small.*` (small runs, not committed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .accounting import Row, render_markdown, render_text
from .harness import Scale

RESULTS_DIR = Path(__file__).with_name("results")
_ROWS = pytest.StashKey[list[Row]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-full",
        action="store_true",
        default=False,
        help="run the chaos scenarios at full size (make chaos); default is the small-count version",
    )


def _full(config: pytest.Config) -> bool:
    return bool(config.getoption("--chaos-full", default=False))


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> Scale:
    return Scale(_full(request.config))


@pytest.fixture
def chaos_report(request: pytest.FixtureRequest) -> Iterator[list[Row]]:
    """Append the scenario's row here; it is added to the session table even if the test fails."""
    rows: list[Row] = []
    yield rows
    request.config.stash.setdefault(_ROWS, []).extend(rows)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(_ROWS, [])
    if not rows:
        return
    full = _full(config)
    runner = "`cordial-bridge run`"
    terminalreporter.section("chaos accounting")
    terminalreporter.write_line(render_text(rows))
    name = "latest" if full else "latest-small"
    RESULTS_DIR.mkdir(exist_ok=True)
    heading = f"# Chaos accounting ({'full' if full else 'small'} run; workers: {runner})\n\n"
    (RESULTS_DIR / f"{name}.md").write_text(heading + render_markdown(rows) + "\n", encoding="utf-8")
    payload = {"mode": "full" if full else "small", "runner": runner, "rows": [r.as_dict() for r in rows]}
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {RESULTS_DIR / name}.md and .json")
