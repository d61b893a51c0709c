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


class TestJoinableLanes:
    """With a batching sink, a key's next item may join its predecessor's unsent batch."""

    def test_joins_the_open_batch_then_waits_for_a_sent_one(self) -> None:
        open_batch = {"a1", "a2"}
        started: list[str] = []
        lanes: KeyLanes[str] = KeyLanes(started.append, joinable=lambda item: item in open_batch)
        assert lanes.submit("a", "a1")
        assert lanes.submit("a", "a2")  # a1 is still in the open batch: a2 joins it
        open_batch.clear()  # the batch is sent
        assert not lanes.submit("a", "a3")  # must wait for a1 and a2
        assert started == ["a1", "a2"]
        assert lanes.finish("a", "a1") is None  # a2 still running
        assert lanes.finish("a", "a2") == "a3"
        assert started == ["a1", "a2", "a3"]
        assert lanes.in_flight == 1

    def test_waiting_items_start_as_a_group_when_each_can_join(self) -> None:
        started: list[str] = []
        joinable = {"a2", "a3"}
        lanes: KeyLanes[str] = KeyLanes(started.append, joinable=lambda item: item in joinable)
        for item in ["a1", "a2", "a3", "a4"]:
            lanes.submit("a", item)
        assert started == ["a1"]
        assert lanes.finish("a", "a1") == "a2"
        assert started == ["a1", "a2", "a3", "a4"]  # a3 joined a2, a4 joined a3
        assert len(lanes.running()) == 3

    def test_finishing_out_of_order_keeps_the_rest_waiting(self) -> None:
        """A failed item routed later (a1) holds the key even when a2 of its batch finished."""
        started: list[str] = []
        lanes: KeyLanes[str] = KeyLanes(started.append, joinable=lambda item: item == "a1")
        lanes.submit("a", "a1")
        lanes.submit("a", "a2")
        lanes.submit("a", "a3")
        assert lanes.finish("a", "a2") is None
        assert started == ["a1", "a2"]
        assert lanes.finish("a", "a1") == "a3"
        assert lanes.finish("a", "a1") is None  # already finished: ignored
        assert lanes.in_flight == 1

    @given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3)), max_size=80))
    def test_order_holds_whatever_joins(self, steps: list[tuple[str, int]]) -> None:
        """Items of a key start in submission order; a key never has items of two different
        (sent) batches running at once; in-flight equals submitted minus finished."""
        batch_of: dict[tuple[str, int], int] = {}
        open_batch = 0
        started: list[tuple[str, int]] = []

        def start(item: tuple[str, int]) -> None:
            started.append(item)
            batch_of[item] = open_batch

        lanes: KeyLanes[tuple[str, int]] = KeyLanes(start, joinable=lambda item: batch_of[item] == open_batch)
        counter = finished = 0
        for key, op in steps:
            running = [i for i in lanes.running() if i[0] == key]
            if op == 0:
                open_batch += 1  # the sink sends its open batch
            elif op == 1 and running:
                lanes.finish(key, running[0])
                finished += 1
            else:
                counter += 1
                lanes.submit(key, (key, counter))
            for k in "abc":
                assert len({batch_of[i] for i in lanes.running() if i[0] == k}) <= 1
        assert lanes.in_flight == counter - finished
        for key in "abc":
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
