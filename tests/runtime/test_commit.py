"""CommitPolicy: commit every interval or every N completions, whichever first; clock passed in."""

from __future__ import annotations

from processor.config.settings import WorkerSettings
from processor.runtime.commit import CommitPolicy, CommitState


def test_nothing_finished_means_no_commit() -> None:
    """Time alone does not trigger a commit when nothing completed."""
    state = CommitState(CommitPolicy(interval_s=1.0, every=10), now=0.0)
    assert not state.should_commit(100.0)


def test_interval_triggers_commit() -> None:
    """One completion commits once the interval has passed since the last commit."""
    state = CommitState(CommitPolicy(interval_s=1.0, every=10), now=0.0)
    state.record_completion()
    assert not state.should_commit(0.5)
    assert state.should_commit(1.0)
    state.did_commit(1.0)
    assert not state.should_commit(5.0)


def test_count_triggers_commit_before_interval() -> None:
    """N completions commit at once, even inside the interval."""
    state = CommitState(CommitPolicy(interval_s=60.0, every=3), now=0.0)
    state.record_completion(2)
    assert not state.should_commit(0.1)
    state.record_completion()
    assert state.should_commit(0.1)


def test_from_settings() -> None:
    policy = CommitPolicy.from_settings(WorkerSettings(commit_interval_s=2.5, commit_every=7))
    assert policy == CommitPolicy(interval_s=2.5, every=7)
