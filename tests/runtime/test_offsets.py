"""OffsetTracker: the commit point over out-of-order completion never passes an unfinished record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.runtime.offsets import OffsetTracker


class TestOffsetTracker:
    def test_nothing_seen_means_nothing_to_commit(self) -> None:
        """A partition with no dispatched record has no commit point."""
        tracker = OffsetTracker()
        assert tracker.commit_point() is None
        assert tracker.committable() is None

    def test_commit_point_is_lowest_unfinished(self) -> None:
        """A later record finishing first does not move the commit point past an earlier one."""
        tracker = OffsetTracker()
        for offset in (10, 11, 12):
            tracker.add(offset)
        tracker.finish(12)
        tracker.finish(11)
        assert tracker.commit_point() == 10
        tracker.finish(10)
        assert tracker.commit_point() == 13
        assert tracker.unfinished == 0

    def test_gaps_between_offsets_are_fine(self) -> None:
        """Offsets need not be contiguous (compaction, control records)."""
        tracker = OffsetTracker()
        tracker.add(5)
        tracker.add(9)
        tracker.finish(5)
        assert tracker.commit_point() == 9

    def test_never_moves_backwards_after_commit(self) -> None:
        """Once committed, the commit point is never reported lower again."""
        tracker = OffsetTracker()
        tracker.add(1)
        tracker.finish(1)
        tracker.mark_committed(2)
        assert tracker.committable() is None
        tracker.mark_committed(1)
        assert tracker.committed == 2
        tracker.add(2)
        assert tracker.commit_point() == 2
        assert tracker.committable() is None

    def test_repeated_or_older_offset_is_refused(self) -> None:
        """Dispatching an offset twice is a worker bug, caught loudly."""
        tracker = OffsetTracker()
        tracker.add(3)
        with pytest.raises(ValueError):
            tracker.add(3)
        with pytest.raises(ValueError):
            tracker.add(2)

    def test_unknown_and_repeated_finish_are_ignored(self) -> None:
        """Finishing an offset twice, or one never added, changes nothing."""
        tracker = OffsetTracker()
        tracker.add(1)
        tracker.add(2)
        tracker.finish(2)
        tracker.finish(2)
        tracker.finish(0)
        assert tracker.commit_point() == 1
        assert tracker.unfinished == 1


@given(st.data())
def test_commit_point_over_any_completion_order(data: st.DataObject) -> None:
    """For any completion order, the commit point is the lowest unfinished offset and only grows."""
    offsets = sorted(data.draw(st.sets(st.integers(0, 1000), min_size=1, max_size=40)))
    tracker = OffsetTracker()
    for offset in offsets:
        tracker.add(offset)
    order = data.draw(st.permutations(offsets))
    finished: set[int] = set()
    previous = tracker.commit_point()
    for offset in order:
        tracker.finish(offset)
        finished.add(offset)
        point = tracker.commit_point()
        unfinished = [o for o in offsets if o not in finished]
        expected = unfinished[0] if unfinished else offsets[-1] + 1
        assert point == expected
        assert previous is not None
        assert point is not None
        assert point >= previous
        previous = point
