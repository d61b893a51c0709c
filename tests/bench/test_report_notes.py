"""The bench's table and miss notes explain a miss from the run's own CPU and latency figures."""

from __future__ import annotations

from typing import Any

from bench.report import notes, render


def inbound(cpu: dict[str, Any] | None, *, p99: float = 120.0) -> dict[str, Any]:
    return {
        "processor": {
            "events": 20000,
            "events_per_s": 1500.0,
            "worker_cpu_pct": None if cpu is None else cpu["process_pct"],
            "worker_cpu": cpu,
            "backpressure_pauses": 0,
            "notes": [],
            "worker_exit": 0,
        },
        "ceiling": {"processor_fraction_pct": 45.0},
        "latency": {
            "produced": 6000,
            "samples": 6000,
            "p99_ms": p99,
            "floor_bare_consumer": {"p50_ms": 29.0, "p99_ms": 70.0},
            "floor_worker_poll": {"p50_ms": 80.0, "p99_ms": 150.0},
        },
    }


def cpu(process: float, main: float, wait: float) -> dict[str, Any]:
    return {
        "process_pct": process,
        "main_thread_pct": main,
        "main_thread_wait_pct": wait,
        "machine_busy_pct": 190.0,
        "machine_cores": 2,
    }


def test_a_busy_event_loop_is_named_the_bottleneck_even_when_it_waits_for_a_core() -> None:
    """68 % running + 29 % waiting for a core: the loop wanted the whole window."""
    said = " ".join(notes({"inbound": inbound(cpu(69, 68, 29))}))
    assert "event loop is the bottleneck" in said
    assert "waited 29 % for a core" in said
    assert "not CPU- or API-bound" not in said


def test_an_idle_loop_points_at_the_consume_path_instead() -> None:
    said = " ".join(notes({"inbound": inbound(cpu(40, 38, 2))}))
    assert "event loop is the bottleneck" not in said
    assert "look at the consume/backpressure path" in said


def test_without_per_thread_figures_the_process_total_still_decides() -> None:
    results = inbound(None)
    results["processor"]["worker_cpu_pct"] = 95
    assert any("CPU-bound (95 %" in n for n in notes({"inbound": results}))


def test_a_latency_miss_above_the_floor_quotes_what_the_worker_poll_alone_costs() -> None:
    said = " ".join(notes({"inbound": inbound(cpu(50, 45, 2), p99=300.0)}))
    assert "broker floor of 70 ms" in said
    assert "p50 29 -> 80 ms, p99 -> 150 ms" in said


def test_the_table_shows_the_thread_and_floor_rows() -> None:
    table = render({"inbound": inbound(cpu(69, 68, 29))})
    for row in (
        "worker CPU % (all threads",
        "event-loop thread CPU %",
        "event-loop thread waiting for a core %",
        "floor read like the worker polls, p99 ms",
    ):
        assert row in table
