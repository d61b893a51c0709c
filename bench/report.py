"""The benchmark's table and its PASS/MISS verdicts against the issue's targets.

Targets (one worker process per direction, 2 cores, broker and emulators on the same machine,
20 ms emulator latency): inbound ≥ 2,000 events/s and ≥ 50x the naive baseline; outbound
≥ 20,000 events/s; p99 ≤ 250 ms at half of the measured maximum rate; peak RSS ≤ 300 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Results = Mapping[str, Mapping[str, Any]]

TARGETS: dict[str, dict[str, float]] = {
    "events_per_s": {"inbound": 2000.0, "outbound": 20000.0},
    "vs_baseline": {"inbound": 50.0},
    "p99_ms": {"inbound": 250.0, "outbound": 250.0},
    "peak_rss_mb": {"inbound": 300.0, "outbound": 300.0},
}
AT_MOST = {"p99_ms", "peak_rss_mb"}


def get(results: Results, direction: str, *path: str) -> Any:
    node: Any = results.get(direction)
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node


def verdicts(results: Results) -> list[dict[str, object]]:
    """One entry per (target, direction): the figure, the bound, PASS/MISS (or n/a: not measured)."""
    figures: dict[str, Callable[[str], Any]] = {
        "events_per_s": lambda d: get(results, d, "processor", "events_per_s"),
        "vs_baseline": lambda d: get(results, d, "vs_baseline"),
        "p99_ms": lambda d: get(results, d, "latency", "p99_ms"),
        "peak_rss_mb": lambda d: get(results, d, "processor", "peak_rss_mb"),
    }
    out: list[dict[str, object]] = []
    for name, bounds in TARGETS.items():
        for direction, bound in bounds.items():
            if direction not in results:
                continue
            value = figures[name](direction)
            if value is None:
                verdict = "n/a"
            elif name in AT_MOST:
                verdict = "PASS" if value <= bound else "MISS"
            else:
                verdict = "PASS" if value >= bound else "MISS"
            op = "<=" if name in AT_MOST else ">="
            out.append(
                {
                    "target": name,
                    "direction": direction,
                    "value": value,
                    "bound": f"{op} {bound:g}",
                    "verdict": verdict,
                }
            )
    return out


def _fmt(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}{suffix}"
    return str(value)


def _diagnosis(direction: str, found: Mapping[str, Any]) -> list[str]:
    """Where the time goes when a target is missed, from the figures the run itself measured."""
    out: list[str] = []
    processor = found.get("processor") or {}
    ceiling = found.get("ceiling") or {}
    rate = processor.get("events_per_s")
    bound = TARGETS["events_per_s"].get(direction)
    if rate is not None and bound is not None and rate < bound:
        cpu = processor.get("worker_cpu_pct")
        threads = processor.get("worker_cpu") or {}
        main, wait = threads.get("main_thread_pct"), threads.get("main_thread_wait_pct")
        fraction = ceiling.get("processor_fraction_pct")
        pauses = processor.get("backpressure_pauses")
        if main is not None and wait is not None and main + wait >= 85:
            starved = f", and waited {wait:.0f} % for a core" if wait >= 15 else ""
            out.append(
                f"{direction}: the event loop is the bottleneck: its thread ran {main:.0f} % of the "
                f"window{starved} (machine busy {threads.get('machine_busy_pct')} % of "
                f"{100 * (threads.get('machine_cores') or 1)} %); see --profile for the hot path"
            )
        elif cpu is not None and cpu >= 85:
            out.append(
                f"{direction}: the worker is CPU-bound ({cpu} % of a core); see --profile for the hot path"
            )
        elif fraction is not None and fraction < 60:
            why = f"worker at {cpu} % of a core, {fraction} % of the lower ceiling"
            if pauses:
                why += f", {pauses} pauses on worker.max_in_flight"
            out.append(f"{direction}: not CPU- or API-bound ({why}): look at the consume/backpressure path")
        else:
            out.append(
                f"{direction}: close to the lower ceiling ({fraction} %): the emulator or broker is the limit"
            )
    latency = found.get("latency") or {}
    floor = (latency.get("floor_bare_consumer") or {}).get("p99_ms")
    p99 = latency.get("p99_ms")
    if p99 is not None and p99 > TARGETS["p99_ms"][direction] and floor is not None:
        if floor > TARGETS["p99_ms"][direction]:
            out.append(
                f"{direction}: p99 {p99:.0f} ms, but a bare consumer already sees p99 {floor:.0f} ms "
                "from this broker at this rate: the target is out of reach here"
            )
        else:
            polled = latency.get("floor_worker_poll") or {}
            why = ""
            if polled.get("p50_ms") is not None and (latency.get("floor_bare_consumer") or {}).get("p50_ms"):
                base50 = latency["floor_bare_consumer"]["p50_ms"]
                why = (
                    f"; reading the same records with the worker's consume(500, poll_timeout_s) alone "
                    f"moves p50 {base50:.0f} -> {polled['p50_ms']:.0f} ms, p99 -> {polled['p99_ms']:.0f} ms"
                )
            out.append(
                f"{direction}: p99 {p99:.0f} ms against a broker floor of {floor:.0f} ms: "
                f"the worker adds the difference{why}"
            )
    return out


def notes(results: Results) -> list[str]:
    """What the reader must know to trust (or not) the figures: partial drains, failed workers."""
    out: list[str] = []
    for direction, found in results.items():
        processor = found.get("processor") or {}
        out += [f"{direction} processor: {n}" for n in processor.get("notes", ())]
        if processor and processor.get("worker_exit") not in (0, None):
            out.append(
                f"{direction} worker exited with {processor['worker_exit']} when stopped (see its log)"
            )
        out += _diagnosis(direction, found)
        latency = found.get("latency") or {}
        if latency and latency.get("samples", 0) < 0.5 * latency.get("produced", 0):
            out.append(
                f"{direction} latency: only {latency['samples']} samples for {latency['produced']} events "
                "(not all delivered in time, or events without a traceable body)"
            )
    return out


def render(results: Results) -> str:
    directions = [d for d in ("inbound", "outbound") if d in results]
    judged = {(v["target"], v["direction"]): str(v["verdict"]) for v in verdicts(results)}

    def verdict(name: str) -> str:
        marks = [judged.get((name, d), "") for d in directions]
        return " / ".join(m or "-" for m in marks) if any(marks) else ""

    def target(name: str) -> str:
        bounds = TARGETS.get(name, {})
        op = "<=" if name in AT_MOST else ">="
        parts = [f"{op} {bounds[d]:,.0f}" if d in bounds else "-" for d in directions]
        return " / ".join(parts) if bounds else ""

    def fig(*path: str, digits: int = 0, suffix: str = "") -> Callable[[str], str]:
        return lambda d: _fmt(get(results, d, *path), digits, suffix)

    backlog = _fmt(get(results, directions[0], "processor", "events")) if directions else "-"
    rows: list[tuple[str, Callable[[str], str], str]] = [
        ("processor events/s (1 worker process)", fig("processor", "events_per_s"), "events_per_s"),
        ("  HTTP requests/s", fig("processor", "http_requests_per_s"), ""),
        ("  worker CPU % (all threads, 100 = 1 core)", fig("processor", "worker_cpu_pct"), ""),
        ("  event-loop thread CPU %", fig("processor", "worker_cpu", "main_thread_pct"), ""),
        (
            "  event-loop thread waiting for a core %",
            fig("processor", "worker_cpu", "main_thread_wait_pct"),
            "",
        ),
        ("  machine busy % (all cores)", fig("processor", "worker_cpu", "machine_busy_pct"), ""),
        ("naive baseline events/s", fig("baseline", "events_per_s", digits=1), ""),
        ("processor / baseline (x)", fig("vs_baseline", digits=1), "vs_baseline"),
        ("ceiling: bare consumer events/s", fig("ceiling", "consumer_events_per_s"), ""),
        ("ceiling: emulator alone events/s", fig("ceiling", "emulator_events_per_s"), ""),
        ("  emulator alone requests/s", fig("ceiling", "emulator_requests_per_s"), ""),
        ("processor / lower ceiling", fig("ceiling", "processor_fraction_pct", suffix=" %"), ""),
        ("latency @50% load: rate events/s", fig("latency", "achieved_rate_per_s"), ""),
        ("  p50 ms", fig("latency", "p50_ms", digits=1), ""),
        ("  p95 ms", fig("latency", "p95_ms", digits=1), ""),
        ("  p99 ms", fig("latency", "p99_ms", digits=1), "p99_ms"),
        (
            "  floor: broker -> bare consumer p50 ms",
            fig("latency", "floor_bare_consumer", "p50_ms", digits=1),
            "",
        ),
        (
            "  floor: broker -> bare consumer p99 ms",
            fig("latency", "floor_bare_consumer", "p99_ms", digits=1),
            "",
        ),
        (
            "  floor read like the worker polls, p50 ms",
            fig("latency", "floor_worker_poll", "p50_ms", digits=1),
            "",
        ),
        (
            "  floor read like the worker polls, p99 ms",
            fig("latency", "floor_worker_poll", "p99_ms", digits=1),
            "",
        ),
        (f"peak RSS MB ({backlog}-event backlog)", fig("processor", "peak_rss_mb", digits=1), "peak_rss_mb"),
    ]
    header = f"{'measure':<42}" + "".join(f"{d:>14}" for d in directions) + f"  {'target':<22}{'result'}"
    lines = [header, "-" * len(header)]
    for label, figure, name in rows:
        cells = "".join(f"{figure(d):>14}" for d in directions)
        lines.append(f"{label:<42}{cells}  {target(name) if name else '':<22}{verdict(name) if name else ''}")
    return "\n".join(lines)
