"""End-to-end benchmark of cordial-bridge: `make bench` (or `python bench/run.py`).

    python bench/run.py [--events N] [--latency-ms 20] [--jitter-ms 5] [--concurrency 64]
                        [--directions inbound outbound] [--profile] [--quick] [--results-dir DIR]

On this machine, all on 127.0.0.1: the embedded broker (Tansu, in memory), both emulators, each in
its own process, and one worker process per direction. Per direction:

1. pre-fill a topic with N events (mixed corpus of `bench/translate.py`);
2. processor: a worker drains the backlog; events/s from the first to the last request received
   at the emulator; its peak RSS (VmHWM) and CPU are sampled meanwhile;
3. naive baseline on the same data: poll one → blocking HTTP call(s) → synchronous commit;
4. ceilings: a bare consumer reading the same records, and the emulator alone under an aiohttp
   load generator at the processor's concurrency; the processor as a fraction of the lower one;
5. latency at 50 % of the processor's measured rate: a warmed, paced producer for a bounded time,
   record timestamp → request received at the emulator, p50/p95/p99; and the floor: the same
   records read by bare consumers with the worker's librdkafka settings (`bench/pacing.py`).

Prints a table with PASS/MISS against the targets and writes it as JSON to
`<results-dir>/<timestamp>.json` and `<results-dir>/latest.json`. With `--profile` the throughput
workers run under pyinstrument; HTML and text profiles land next to the JSON. Every child
process is stopped on exit, on error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: `bench.*`

from bench import ceiling, config, feed, latency, naive, pacing, report, throughput
from bench.observe import Emulator
from bench.procs import Children, kill_all, render_profile
from processor.config.loader import load_settings_text
from processor.demo.broker import EmbeddedBroker
from processor.runtime.kafka import consumer_config

RESULTS = Path(__file__).resolve().parent / "results"


def options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=200_000, help="backlog per direction (also the RSS backlog)"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="emulator latency per request")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="extra uniform random latency")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=128,
        help="worker http.max_concurrency (product default 64); also the load generator's",
    )
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--directions", nargs="+", choices=["inbound", "outbound"], default=["inbound", "outbound"]
    )
    parser.add_argument(
        "--baseline-events", type=int, default=300, help="naive baseline: events measured at most"
    )
    parser.add_argument("--baseline-seconds", type=float, default=15.0, help="naive baseline: time box")
    parser.add_argument("--ceiling-seconds", type=float, default=10.0, help="emulator-alone load time")
    parser.add_argument("--latency-seconds", type=float, default=15.0, help="paced producer duration")
    parser.add_argument("--phase-timeout", type=float, default=300.0, help="upper bound for one drain")
    parser.add_argument("--log-level", default="info", help="worker log level (product default: info)")
    parser.add_argument(
        "--profile", action="store_true", help="run the throughput workers under pyinstrument"
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts for the smoke test (~1 minute)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--log-dir", type=Path, default=None, help="keep child logs here (default: deleted)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 2000)
        args.baseline_events, args.baseline_seconds = 30, 5.0
        args.ceiling_seconds, args.latency_seconds, args.phase_timeout = 2.0, 3.0, 60.0
    return args


_T0 = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s] {text}" if text else "", flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, children: Children, bootstrap: str, workdir: Path) -> None:
        self.args = args
        self.children = children
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        jitter = {"latency_ms": args.latency_ms, "jitter_ms": args.jitter_ms}
        self.urls = {
            "inbound": children.emulator("cordial", **jitter),
            "outbound": children.emulator("segment", **jitter),
        }
        urls = f"{self.urls['inbound']}, {self.urls['outbound']}"
        say(f"broker {bootstrap} (Tansu, in memory); emulators {urls}")

    def config(self, name: str, inbound_topic: str, outbound_topic: str) -> Path:
        body = config.bench_config(
            bootstrap=self.bootstrap,
            cordial_url=self.urls["inbound"],
            segment_url=self.urls["outbound"],
            inbound_topic=inbound_topic,
            outbound_topic=outbound_topic,
            group=f"bench-{name}",
            partitions=self.args.partitions,
            concurrency=self.args.concurrency,
            log_level=self.args.log_level,
        )
        return config.write(self.workdir / f"{name}.yaml", body)

    def direction(self, direction: str) -> dict[str, Any]:
        args = self.args
        out: dict[str, Any] = {}
        topic = f"bench-{direction}"
        config.create_topics(self.bootstrap, [topic], args.partitions)
        make = feed.inbound_events if direction == "inbound" else feed.outbound_events
        events = make(args.events)
        expected = throughput.expected_deliveries(direction, events)
        seconds = feed.prefill(self.bootstrap, topic, events)
        say(f"[{direction}] pre-filled {len(events):,} events in {seconds:.1f} s; {expected:,} to deliver")
        emulator = Emulator(self.urls[direction])
        try:
            # 1. the processor
            profile = (
                args.results_dir / f"{self.stamp}-{direction}.profile.pyisession" if args.profile else None
            )
            cfg = self.config(f"{direction}-{self.stamp}", topic if direction == "inbound" else "unused-in",
                              topic if direction == "outbound" else "unused-out")  # fmt: skip
            drained = throughput.drain(
                self.children, emulator, direction=direction, config=cfg, events=len(events),
                expected=expected, timeout_s=args.phase_timeout, profile=profile,
            )  # fmt: skip
            out["processor"] = drained.as_dict()
            if profile is not None:
                rendered = render_profile(profile)
                out["processor"]["profile"] = [str(p) for p in rendered]
                if not rendered:
                    out["processor"]["notes"].append("no profile: the worker did not exit cleanly")
                profile.unlink(missing_ok=True)
            say(f"[{direction}] processor: {drained.events_per_s:,.0f} events/s over {drained.seconds:.1f} s "
                f"({drained.requests:,} requests, peak RSS {drained.peak_rss_mb or 0:.0f} MB)")  # fmt: skip
            batch = max(1, round(drained.delivered / drained.requests)) if drained.requests else 100
            # 2. the naive baseline
            emulator.reset()
            slow = naive.run_naive(
                direction=direction, bootstrap=self.bootstrap, topic=topic, base_url=self.urls[direction],
                group=f"bench-naive-{direction}-{self.stamp}", max_events=args.baseline_events,
                max_seconds=args.baseline_seconds,
            )  # fmt: skip
            out["baseline"] = slow.as_dict()
            if slow.events_per_s:
                out["vs_baseline"] = round(drained.events_per_s / slow.events_per_s, 1)
            say(f"[{direction}] naive baseline: {slow.events_per_s:,.1f} events/s ({slow.events} events)")
            # 3. the ceilings
            bare = feed.bare_consume(self.bootstrap, topic, len(events), timeout_s=60)
            requests = (
                ceiling.cordial_requests(events[:5000])
                if direction == "inbound"
                else ceiling.segment_batches(events[: max(5000, batch * 20)], batch)
            )
            emulator.reset()
            alone = ceiling.drive(
                direction,
                self.urls[direction],
                requests,
                concurrency=args.concurrency,
                seconds=args.ceiling_seconds,
            )
            per_request = (expected / len(events)) if direction == "inbound" else 1 / batch
            emulator_eps = alone["requests_per_s"] / per_request if per_request else 0.0
            lower = min(bare["events_per_s"], emulator_eps)
            out["ceiling"] = {
                "consumer_events_per_s": bare["events_per_s"],
                "consumer": bare,
                "emulator_requests_per_s": alone["requests_per_s"],
                "emulator_events_per_s": round(emulator_eps, 1),
                "emulator": {
                    **alone,
                    "concurrency": args.concurrency,
                    "messages_per_request": round(1 / per_request, 3),
                },
                "processor_fraction_pct": round(100 * drained.events_per_s / lower, 1) if lower else None,
            }
            say(
                f"[{direction}] ceilings: bare consumer {bare['events_per_s']:,.0f} events/s, "
                f"emulator alone {alone['requests_per_s']:,.0f} requests/s = {emulator_eps:,.0f} events/s"
            )
            # 4. latency at half the measured rate
            if drained.events_per_s > 0:
                out["latency"] = self.latency(direction, emulator, 0.5 * drained.events_per_s).as_dict()
                lat = out["latency"]
                floor = lat["floor_bare_consumer"]
                say(f"[{direction}] latency @ {lat['achieved_rate_per_s']:,.0f}/s: p50 {lat['p50_ms']} ms, "
                    f"p95 {lat['p95_ms']} ms, p99 {lat['p99_ms']} ms ({lat['samples']} samples); "
                    f"broker → bare consumer p50 {floor['p50_ms']}, p99 {floor['p99_ms']} ms")  # fmt: skip
        finally:
            emulator.close()
        return out

    def latency(self, direction: str, emulator: Emulator, rate: float) -> latency.Latency:
        args = self.args
        run = f"lat-{direction}-{self.stamp}"
        topic = f"bench-{run}"
        config.create_topics(self.bootstrap, [topic], args.partitions)
        cfg = self.config(run, topic if direction == "inbound" else "unused-in",
                          topic if direction == "outbound" else "unused-out")  # fmt: skip
        make = feed.inbound_events if direction == "inbound" else feed.outbound_events
        tag = latency.tag_inbound if direction == "inbound" else latency.tag_outbound
        count = max(1, int(rate * args.latency_seconds))
        paced = tag(make(count, seed=5), run)
        warm = tag(make(20, seed=3), f"warm-{run}", first_seq=count)
        result = latency.Latency(direction, rate)
        emulator.reset()
        worker = self.children.worker(direction, cfg)
        timeout_s = args.latency_seconds * 2 + 10
        try:
            with pacing.PacedProducer(self.bootstrap) as producer:
                producer.warm(topic, warm)  # the worker's warm-up and the producer's, off the clock
                warm_expected = throughput.expected_deliveries(direction, warm)
                self.settle(emulator, direction, warm_expected, worker.poll)
                emulator.reset()
                result.produced, result.produce_seconds = producer.pace(topic, paced, rate, timeout_s)
            expected = throughput.expected_deliveries(direction, paced)
            self.settle(emulator, direction, expected, worker.poll)
            received = emulator.received()
        finally:
            self.children.stop(worker)
        stamps = feed.read_timestamps(self.bootstrap, topic, len(warm) + len(paced), latency.seq_of)
        latency.measure(result, received, stamps)
        floor_topic = f"bench-floor-{direction}-{self.stamp}"
        config.create_topics(self.bootstrap, [floor_topic], args.partitions)
        settings = load_settings_text(cfg.read_text(encoding="utf-8"), source=str(cfg))
        found = pacing.floor(
            self.bootstrap, floor_topic, consumer_config(settings.kafka, f"bench-floor-{direction}"),
            settings.worker.poll_timeout_s, warm=warm, events=paced, rate_per_s=rate, timeout_s=timeout_s,
        )  # fmt: skip
        result.floor_ms, result.floor_worker_poll_ms = found.bare_ms, found.worker_poll_ms
        return result

    @staticmethod
    def settle(emulator: Emulator, direction: str, expected: int, poll: Callable[[], int | None]) -> None:
        """Wait (bounded) until `expected` deliveries of the latest traffic reached the emulator."""
        inbound = direction == "inbound"
        emulator.watch(
            done=lambda count: inbound and count >= expected,
            deadline_s=60,
            idle_s=3.0 if inbound else 1.0,
            alive=lambda: poll() is None,
            confirm=None if inbound else lambda: emulator.segment_accepted() >= expected,
        )


def git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=RESULTS.parent.parent, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "note": "broker, emulators, worker and load generators share this machine",
    }


def write_results(args: argparse.Namespace, document: dict[str, Any], stamp: str) -> Path:
    args.results_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, default=str)
    path = args.results_dir / f"{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(text, encoding="utf-8")
    (args.results_dir / "latest.json").write_text(text, encoding="utf-8")
    return path


BROKER_PIDS: list[int] = []
WATCHDOG_S = 60.0


def _last_resort() -> None:
    """Runs only if unwinding after Ctrl-C/SIGTERM got stuck (e.g. inside a Kafka client call)."""
    time.sleep(WATCHDOG_S)
    print("shutdown stuck; killing every child process", file=sys.stderr, flush=True)
    kill_all(tuple(BROKER_PIDS))
    os._exit(130)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: unwind (every context manager stops what it started), with a watchdog."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_last_resort, name="bench-watchdog", daemon=True).start()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = options(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack
    started = time.monotonic()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cordial-bridge-bench-") as tmp:
        workdir = Path(tmp)
        logs = args.log_dir or workdir / "logs"
        try:
            with EmbeddedBroker(log_path=str(workdir / "broker.log")) as broker, Children(logs) as children:
                BROKER_PIDS.extend([broker.pid] if broker.pid else [])
                bench = Bench(args, children, broker.bootstrap_servers, workdir)
                stamp = bench.stamp
                for direction in args.directions:
                    results[direction] = bench.direction(direction)
        except KeyboardInterrupt:
            say("interrupted: every process this bench started has been stopped")
            return 130
        except Exception:
            say(f"bench failed; worker and emulator logs were in {logs} (deleted on exit):")
            for log in sorted(logs.glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-5:]
                say(f"--- {log.name}\n" + "\n".join(tail))
            raise
    document = {
        "benchmark": "cordial-bridge end to end",
        "commit": git_commit(),
        "started_at": stamp,
        "seconds": round(time.monotonic() - started, 1),
        "machine": machine(),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "results": results,
        "targets": report.verdicts(results),
    }
    say("")
    say(report.render(results))
    for line in report.notes(results):
        say(f"note: {line}")
    path = write_results(args, document, stamp)
    say(f"\nwritten to {path} and {args.results_dir / 'latest.json'} ({document['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
