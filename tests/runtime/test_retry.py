"""Retry tiers: duration parsing, topic names, tier choice, the attempt budget and the due gate."""

from __future__ import annotations

import pytest

from processor.config.settings import RetrySettings
from processor.errors import ConfigError
from processor.runtime.retry import DueGate, RetryPlan, dlq_topic, due_at_ms, parse_duration, retry_topic


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5.0),
        ("1m", 60.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("250ms", 0.25),
        ("1d", 86400.0),
        (" 2s ", 2.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "s", "-1s", "1w", "1.2.3s", "five s"])
def test_parse_duration_rejects(text: str) -> None:
    """Anything but <number><unit> is a config error naming the bad value."""
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


def test_topic_names() -> None:
    assert retry_topic("segment-inbound", "5s") == "segment-inbound.retry.5s"
    assert dlq_topic("cordial-outbound") == "cordial-outbound.dlq"


class TestRetryPlan:
    plan = RetryPlan.from_settings(RetrySettings())

    def test_defaults(self) -> None:
        assert [t.name for t in self.plan.tiers] == ["5s", "1m", "10m", "1h"]
        assert self.plan.max_attempts == 8
        assert self.plan.topics("t") == ["t.retry.5s", "t.retry.1m", "t.retry.10m", "t.retry.1h"]

    @pytest.mark.parametrize(
        ("attempts", "tier"), [(1, "5s"), (2, "1m"), (3, "10m"), (4, "1h"), (5, "1h"), (7, "1h"), (8, None)]
    )
    def test_next_tier_by_attempts_then_dlq(self, attempts: int, tier: str | None) -> None:
        """Each failure moves one tier further; the last tier repeats; max_attempts → DLQ."""
        chosen = self.plan.next_tier(attempts)
        assert (chosen.name if chosen else None) == tier

    def test_no_tiers_means_dlq(self) -> None:
        plan = RetryPlan.from_settings(RetrySettings(tiers=(), max_attempts=8))
        assert plan.next_tier(1) is None

    def test_bad_settings(self) -> None:
        with pytest.raises(ConfigError):
            RetryPlan.from_settings(RetrySettings(tiers=("5s", "5s")))
        with pytest.raises(ConfigError):
            RetryPlan.from_settings(RetrySettings(max_attempts=0))
        with pytest.raises(ConfigError):
            RetryPlan.from_settings(RetrySettings(tiers=("soon",)))


def test_due_at_header() -> None:
    assert due_at_ms({"cb-due-at": b"1700000000123"}) == 1700000000123
    assert due_at_ms({}) is None
    assert due_at_ms({"cb-due-at": b"tomorrow"}) is None


def test_due_gate_holds_until_due() -> None:
    """A held partition is released (with its offset to seek to) only once its time has come."""
    gate = DueGate()
    gate.hold(("t.retry.5s", 0), 42, until=10.0)
    gate.hold(("t.retry.5s", 1), 7, until=20.0)
    assert gate.is_held(("t.retry.5s", 0))
    assert gate.next_due() == 10.0
    assert gate.release_due(9.9) == []
    assert gate.release_due(10.0) == [(("t.retry.5s", 0), 42)]
    assert not gate.is_held(("t.retry.5s", 0))
    gate.drop(("t.retry.5s", 1))
    assert gate.release_due(100.0) == []
