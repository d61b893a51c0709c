"""The bench's CPU column: /proc readings, and shares over exactly the events/s window.

Pure arithmetic on hand-made marks, plus one reading of this test process's own /proc entries;
no broker, no timing assertions.
"""

from __future__ import annotations

import os
import threading

import pytest

from bench.cpu import CpuMark, read_mark, share
from bench.observe import carries_events


def mark(at: float, process: float, main: float | None = None, wait: float | None = None) -> CpuMark:
    return CpuMark(at, process, main, wait, machine_busy_s=2 * at, machine_steal_s=0.0)


def test_share_interpolates_at_the_window_ends_so_start_up_and_tail_are_excluded() -> None:
    """Idle start-up (0-10 s), one busy core (10-20 s), idle tail (20-30 s): the window 10-20 is 100 %."""
    marks = [
        mark(0, 1.0, 1.0, 0.0),
        mark(9, 1.0, 1.0, 0.0),
        mark(21, 12.0, 11.5, 0.5),
        mark(30, 12.0, 11.5, 0.5),
    ]
    # samples at 9 and 21 straddle the window: CPU is interpolated linearly between them
    got = share(marks, 9.0, 21.0)
    assert got is not None
    assert got.process_pct == pytest.approx(100 * 11 / 12)
    assert got.main_pct == pytest.approx(100 * 10.5 / 12)
    assert got.main_wait_pct == pytest.approx(100 * 0.5 / 12)
    assert got.machine_busy_pct == pytest.approx(200.0)
    # a window inside one sampling interval gets the interval's rate, not 0 or a clamped value
    inner = share(marks, 12.0, 15.0)
    assert inner is not None
    assert inner.process_pct == pytest.approx(100 * 11 / 12)


def test_share_refuses_a_window_the_marks_do_not_bracket() -> None:
    """Without a mark at/after the end, the CPU time would be cut short while the divisor is not."""
    marks = [mark(0, 0.0), mark(5, 5.0)]
    assert share(marks, 1.0, 6.0) is None
    assert share(marks, -1.0, 4.0) is None
    assert share(marks, 3.0, 3.0) is None
    assert share([], 0.0, 1.0) is None
    full = share(marks, 0.0, 5.0)
    assert full is not None
    assert full.process_pct == pytest.approx(100.0)
    assert full.main_pct is None  # no main-thread readings: reported as unknown, not 0


def test_read_mark_counts_every_thread_and_the_main_thread_separately() -> None:
    """A busy side thread shows in the process total but not in the main thread's CPU."""
    before = read_mark(os.getpid())
    assert before is not None

    def spin() -> None:
        import time

        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass

    side = threading.Thread(target=spin)
    side.start()
    side.join()
    after = read_mark(os.getpid())
    assert after is not None
    assert before.main_s is not None
    assert after.main_s is not None
    process_delta = after.process_s - before.process_s
    main_delta = after.main_s - before.main_s
    assert process_delta >= 0.2  # the side thread's 0.3 s (minus tick rounding), an exited thread included
    assert main_delta < process_delta - 0.1


def test_read_mark_of_a_process_that_is_gone_is_none() -> None:
    assert read_mark(2**22 + 12345) is None  # above the default pid_max


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"method": "GET", "path": "/api/checkAuth", "body": None}, False),
        ({"method": "POST", "path": "/v1/batch", "body": {"batch": [], "sentAt": "x"}}, False),
        ({"method": "POST", "path": "/v1/batch", "body": {"batch": [{"type": "track"}]}}, True),
        ({"method": "POST", "path": "/api/contacts", "body": {"channels": {}}}, True),
    ],
)
def test_the_start_up_credential_check_does_not_open_the_throughput_window(
    entry: dict[str, object], expected: bool
) -> None:
    assert carries_events(entry) is expected
