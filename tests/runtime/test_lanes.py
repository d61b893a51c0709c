"""KeyLanes and Backpressure: per-key order, different keys concurrent, cap → pause, low water → resume."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.runtime.lanes import Backpressure, KeyLanes


class TestKeyLanes:
    def test_one_running_per_key_in_order(self) -> None:
        """A key's second item waits until its first finishes; other keys start at once."""
        started: list[str] = []
        lanes: KeyLanes[str] = KeyLanes(started.append)
        assert lanes.submit("a", "a1")
        assert not lanes.submit("a", "a2")
        assert lanes.submit("b", "b1")
        assert started == ["a1", "b1"]
        assert lanes.in_flight == 3
        assert lanes.finish("a") == "a2"
        assert started == ["a1", "b1", "a2"]
        assert lanes.finish("a") is None
        assert lanes.finish("b") is None
        assert lanes.in_flight == 0
        assert lanes.keys == 0

    def test_drop_waiting_keeps_running_items(self) -> None:
        """Dropping (on revoke) removes only waiting items; the running one stays."""
        started: list[tuple[str, int]] = []
        lanes: KeyLanes[tuple[str, int]] = KeyLanes(started.append)
        for item in [("p0", 1), ("p1", 2), ("p0", 3)]:
            lanes.submit("k", item)
        dropped = lanes.drop_waiting(lambda item: item[0] == "p0")
        assert dropped == [("p0", 3)]
        assert lanes.in_flight == 2
        assert lanes.finish("k") == ("p1", 2)
        assert lanes.finish("k") is None

    @given(st.lists(st.tuples(st.sampled_from("abcd"), st.booleans()), max_size=60))
    def test_per_key_order_under_any_interleaving(self, steps: list[tuple[str, bool]]) -> None:
        """Whatever the interleaving of submissions and completions, each key's items start in
        submission order and never two at once."""
        started: list[tuple[str, int]] = []
        lanes: KeyLanes[tuple[str, int]] = KeyLanes(started.append)
        running: dict[str, tuple[str, int] | None] = {}
        counter = 0
        for key, finish in steps:
            if finish and running.get(key):
                running[key] = lanes.finish(key)
            else:
                counter += 1
                if lanes.submit(key, (key, counter)):
                    assert running.get(key) is None
                    running[key] = (key, counter)
        for key in "abcd":
            seq = [n for k, n in started if k == key]
            assert seq == sorted(seq)


class TestBackpressure:
    def test_pause_at_cap_resume_below_low_water(self) -> None:
        """Pause at the cap; stay paused until strictly below resume_below * cap."""
        bp = Backpressure(cap=10, resume_below=0.5)
        assert bp.update(9) is None
        assert bp.update(10) is True
        assert bp.update(12) is None
        assert bp.update(5) is None
        assert bp.update(4) is False
        assert bp.update(4) is None

    def test_cap_of_one(self) -> None:
        bp = Backpressure(cap=1, resume_below=0.5)
        assert bp.update(1) is True
        assert bp.update(0) is False

    def test_bad_cap(self) -> None:
        with pytest.raises(ValueError):
            Backpressure(cap=0, resume_below=0.5)
