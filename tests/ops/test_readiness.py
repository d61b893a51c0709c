"""Readiness: each condition of SPEC §8 /readyz flips the answer on its own."""

from __future__ import annotations

from processor.ops.readiness import Readiness


def _ready_state() -> Readiness:
    readiness = Readiness()
    readiness.set_broker_reachable(True)
    readiness.set_assigned("inbound", 3)
    return readiness


def test_ready_when_assigned_reachable_and_not_paused() -> None:
    ready, details = _ready_state().snapshot()
    assert ready
    assert details["problems"] == []


def test_not_ready_before_anything_runs() -> None:
    ready, details = Readiness().snapshot()
    assert not ready
    assert "broker_unreachable" in details["problems"]  # type: ignore[operator]


def test_each_condition_makes_it_not_ready() -> None:
    for spoil, problem in [
        (lambda r: r.set_broker_reachable(False), "broker_unreachable"),
        (lambda r: r.set_assigned("inbound", 0), "inbound:no_partitions_assigned"),
        (lambda r: r.set_auth_paused("inbound", True), "inbound:auth_paused"),
        (lambda r: r.set_dlq_storm("inbound", True), "inbound:dlq_storm"),
    ]:
        readiness = _ready_state()
        spoil(readiness)
        ready, details = readiness.snapshot()
        assert not ready
        assert details["problems"] == [problem]


def test_auth_pause_clears() -> None:
    readiness = _ready_state()
    readiness.set_auth_paused("inbound", True)
    readiness.set_auth_paused("inbound", False)
    assert readiness.snapshot()[0]
