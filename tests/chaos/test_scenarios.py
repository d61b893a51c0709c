"""Fault-injection scenarios with no-loss accounting (SPEC §5-§7, issue 9).

Each scenario puts uniquely numbered events on a fresh topic, runs real worker processes, injects
one kind of fault, waits until every event is accepted by the Cordial emulator or sits in the
DLQ, and checks the ledger: nothing lost, exactly the poison dead-lettered, no poison delivered,
and per-key order kept for every key that saw no failure. The small version of each runs in
`make test`; `make chaos` (`--chaos-full`) runs the full one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from processor.demo.broker import EmbeddedBroker
from processor.emulators.faults import FaultConfig

from .accounting import Row
from .harness import BackgroundProducer, ChaosRun, Scale
from .poison import KINDS, poison_events

pytestmark = pytest.mark.kafka

RunFactory = Callable[..., ChaosRun]

MEMORY_CEILING_MIB = 192.0
"""A worker's peak RSS must stay under this while the API is down, whatever the backlog: about
60 MiB idle, plus librdkafka's prefetch cap (`queued.max.messages.kbytes`, 64 MiB by default),
plus in-flight records (`worker.max_in_flight`). The full run's backlog is bigger than the room
left, so a worker that buffered it would fail."""


@pytest.fixture
def chaos_run(kafka_broker, tmp_path: Path, scale: Scale):
    """`chaos_run("name", config=..., faults=...)` → a ChaosRun on the session broker (closed after)."""
    runs: list[ChaosRun] = []

    def create(scenario: str, *, bootstrap_servers: str | None = None, **kwargs) -> ChaosRun:
        workdir = tmp_path / scenario
        workdir.mkdir(exist_ok=True)
        run = ChaosRun(
            scenario,
            mode=scale.mode,
            bootstrap_servers=bootstrap_servers or kafka_broker.bootstrap_servers,
            workdir=workdir,
            **kwargs,
        )
        runs.append(run)
        return run

    yield create
    for run in runs:
        run.close()


def check(run: ChaosRun, row: Row, report: list[Row]) -> None:
    """Record the row, then hold the scenario to the no-loss rules."""
    report.append(row)
    why = run.explain(row)
    assert row.settled, f"not every event was accounted for within the timeout\n{why}"
    assert row.lost == 0, why
    assert row.poison_delivered == 0, why
    assert row.good_dead_lettered == 0, why
    assert row.dlq_actual == row.dlq_expected, why
    assert row.delivered + row.dlq_expected == row.produced, why
    assert row.order_violations == 0, why


def test_baseline(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """No fault: every event delivered once, in order per key (the control row)."""
    run = chaos_run("baseline")
    run.pool.start()
    run.produce(run.events(keys=scale.count(10, 50), per_key=scale.count(10, 100)))
    settled = run.wait_until_quiet(timeout_s=scale.pick(60, 300))
    row = run.finish(settled=settled)
    check(run, row, chaos_report)
    assert row.duplicates == 0, run.explain(row)


# --------------------------------------------------------------------------- helpers

SLOW_API = FaultConfig(latency_ms=5.0, jitter_ms=30.0, seed=1)
"""A little latency, so that work is in flight when a fault strikes."""


def restart(run: ChaosRun, worker) -> None:
    run.pool.kill(worker)
    run.pool.start()


def kill_at_random_moments(run: ChaosRun, kills: int, rng: random.Random) -> int:
    """`kill -9` the (only) worker `kills` times, each at a random moment while it is delivering,
    and start a fresh one each time. Stops early once nothing is left to deliver; returns the
    number of kills made."""
    made = 0
    for _ in range(kills):
        if not run.wait_for_progress(timeout_s=45):
            break  # the stream is done (a stuck worker shows up in the accounting instead)
        time.sleep(rng.uniform(0.0, 2.0))
        restart(run, run.pool.alive()[0])
        made += 1
    return made


def after(seconds: float) -> Iterator[float]:
    """Deadline helper: yields the time left until `seconds` from now have passed."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        yield left


# --------------------------------------------------------------------------- process faults


def test_kill9_repeated(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """`kill -9` of the only worker at random moments under load, restarted each time: no loss."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    run = chaos_run("kill9_repeated", faults=SLOW_API)
    run.pool.start()
    # Long enough a stream (~18 s small, ~100 s full) for every kill to strike under load.
    events = run.events(keys=scale.count(20, 50), per_key=scale.count(35, 200))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    made = kill_at_random_moments(run, kills := scale.count(2, 10), rng)
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(settled=settled, notes=f"{made} of {kills} kills made, seed {seed}")
    check(run, row, chaos_report)
    assert made >= 2, "the stream ended before the worker could be killed twice"


def test_kill9_outbound(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """The same for the outbound direction (batched to Segment): `kill -9` mid-batch, no loss."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    run = chaos_run("kill9_outbound", direction="outbound", faults=SLOW_API)
    run.pool.start()
    events = run.events(keys=scale.count(20, 50), per_key=scale.count(35, 160))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    made = kill_at_random_moments(run, kills := scale.count(2, 8), rng)
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(settled=settled, notes=f"{made} of {kills} kills made, seed {seed}")
    check(run, row, chaos_report)
    assert made >= 2, "the stream ended before the worker could be killed twice"


def test_rebalance_under_load(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Two workers in one group; one is killed and restarted under load (rebalances): no loss."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    run = chaos_run("rebalance_two_workers", faults=SLOW_API, partitions=6)
    run.pool.start()
    run.pool.start()
    events = run.events(keys=scale.count(24, 60), per_key=scale.count(20, 100))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    rounds = scale.count(1, 4)
    for _ in range(rounds):
        assert run.wait_for_progress(), run.pool.log_tail()
        time.sleep(rng.uniform(0.5, 3.0))
        victim = rng.choice(run.pool.alive())
        run.pool.kill(victim)
        time.sleep(rng.uniform(1.0, 4.0))  # the survivor takes over (after the session timeout)
        run.pool.start()
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(
        settled=settled, notes=f"{rounds} kill+restart rounds of one of two workers, seed {seed}"
    )
    check(run, row, chaos_report)


def test_rebalance_graceful(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Two workers in one group; one is stopped with SIGTERM and restarted under load: its partitions
    are drained and committed before they move (SPEC §7), so nothing is lost or sent twice."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    run = chaos_run("rebalance_graceful", faults=SLOW_API, partitions=6)
    run.pool.start()
    run.pool.start()
    events = run.events(keys=scale.count(24, 60), per_key=scale.count(20, 100))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    rounds = scale.count(1, 4)
    exits = []
    for _ in range(rounds):
        assert run.wait_for_progress(), run.pool.log_tail()
        time.sleep(rng.uniform(0.5, 3.0))
        exits.append(run.pool.terminate(rng.choice(run.pool.alive())))
        run.pool.start()
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(
        settled=settled, notes=f"{rounds} SIGTERM+restart rounds, exit codes {exits}, seed {seed}"
    )
    check(run, row, chaos_report)
    assert exits == [0] * rounds, run.explain(row)
    assert row.duplicates == 0, run.explain(row)


def test_broker_paused(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row], tmp_path: Path) -> None:
    """The broker is frozen (SIGSTOP) under load, then resumed (SIGCONT): no loss."""
    pause_s = scale.pick(8, 30)
    with EmbeddedBroker(log_path=str(tmp_path / "paused-broker.log")) as broker:
        run = chaos_run("broker_paused", bootstrap_servers=broker.bootstrap_servers, faults=SLOW_API)
        run.pool.start()
        events = run.events(keys=scale.count(20, 50), per_key=scale.count(10, 80))
        producer = BackgroundProducer(run, events, per_second=scale.pick(30, 80))
        assert run.wait_for_progress(), run.pool.log_tail()
        broker.pause()
        time.sleep(pause_s)
        broker.resume()
        producer.join(timeout_s=300)
        settled = run.wait_until_quiet(timeout_s=scale.pick(120, 600))
        row = run.finish(settled=settled, notes=f"broker paused {pause_s:.0f} s")
        run.close()
    check(run, row, chaos_report)


# --------------------------------------------------------------------------- API faults


def fault_windows(run: ChaosRun, bad: dict[str, float], *, on_s: float, off_s: float, windows: int) -> None:
    """Turn `bad` faults on for `on_s`, off for `off_s`, `windows` times (blocking)."""
    clear = dict.fromkeys(bad, 0.0)
    for _ in range(windows):
        run.api.set_faults(**bad)
        time.sleep(on_s)
        run.api.set_faults(**clear)
        time.sleep(off_s)


def api_fault_scenario(
    run: ChaosRun,
    scale: Scale,
    bad: dict[str, float],
    *,
    on_s: float,
    off_s: float,
    notes: str,
) -> Row:
    run.pool.start()
    events = run.events(keys=scale.count(20, 60), per_key=scale.count(10, 80))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    assert run.wait_for_progress(), run.pool.log_tail()
    fault_windows(run, bad, on_s=on_s, off_s=off_s, windows=scale.count(2, 5))
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    return run.finish(settled=settled, notes=notes)


def test_latency_spikes(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Cordial answers slower than the worker's HTTP timeout in spikes: retried, duplicates, no loss."""
    run = chaos_run("latency_spikes", config={"cordial": {"http": {"timeout_s": 1.0}}}, faults=SLOW_API)
    row = api_fault_scenario(
        run,
        scale,
        {"latency_ms": 1500.0},
        on_s=3.0,
        off_s=3.0,
        notes="latency 1.5 s against a 1 s timeout, 3 s spikes",
    )
    check(run, row, chaos_report)


def test_429_storm(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """429 storms with Retry-After: backed off and retried, nothing lost or dead-lettered."""
    run = chaos_run("storm_429", faults=SLOW_API)
    row = api_fault_scenario(
        run,
        scale,
        {"rate_429": 0.8, "retry_after_s": 1.0},
        on_s=4.0,
        off_s=2.0,
        notes="80 % of calls answered 429 (Retry-After: 1) for 4 s windows",
    )
    check(run, row, chaos_report)


def test_5xx_bursts(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Bursts of 500/503: retried in process and through the retry topics, nothing lost."""
    run = chaos_run("bursts_5xx", faults=SLOW_API)
    row = api_fault_scenario(
        run,
        scale,
        {"rate_500": 0.4, "rate_503": 0.4},
        on_s=3.0,
        off_s=2.0,
        notes="80 % of calls answered 500/503 for 3 s windows",
    )
    check(run, row, chaos_report)


def test_401_then_fixed(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """401 for a period (a revoked key), then fixed: the direction pauses, nothing is dead-lettered."""
    run = chaos_run("auth_401_then_fixed", faults=SLOW_API)
    run.pool.start()
    events = run.events(keys=scale.count(20, 60), per_key=scale.count(10, 80))
    producer = BackgroundProducer(run, events, per_second=scale.pick(40, 100))
    assert run.wait_for_progress(), run.pool.log_tail()
    outage = scale.pick(6.0, 30.0)
    run.api.set_faults(rate_401=1.0)
    time.sleep(outage)
    run.refresh()
    during = run.outstanding()
    run.api.set_faults(rate_401=0.0)
    producer.join()
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(settled=settled, notes=f"every call 401 for {outage:.0f} s ({during} events waiting)")
    check(run, row, chaos_report)
    assert during > 0, "the outage should have held events back"
    assert row.retry_records == 0, "an auth failure must pause the direction, not fill the retry topics"


# --------------------------------------------------------------------------- bad input


def test_poison_mix(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Every kind of poison among good traffic: exactly the poison is dead-lettered, the rest arrives."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    run = chaos_run("poison_mix", faults=SLOW_API)
    run.pool.start()
    good = run.events(keys=scale.count(10, 40), per_key=scale.count(10, 50))
    poison = poison_events(scale.count(len(KINDS) * 2, len(KINDS) * 20))
    stream = list(good)
    for item in poison:
        stream.insert(rng.randrange(len(stream) + 1), item)
    run.produce(stream)
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(settled=settled, notes=f"{len(poison)} poison of {len(KINDS)} kinds, seed {seed}")
    check(run, row, chaos_report)


# --------------------------------------------------------------------------- retry topics


def test_retry_consumer_killed_mid_delay(
    chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]
) -> None:
    """Records wait in a retry tier; the worker holding them is killed mid-delay and restarted."""
    run = chaos_run(
        "retry_killed_mid_delay",
        config={"retry": {"tiers": ["6s", "12s"]}, "cordial": {"http": {"in_process_attempts": 1}}},
        faults=FaultConfig(rate_503=1.0, seed=3),
    )
    run.pool.start()
    events = run.events(keys=scale.count(10, 40), per_key=scale.count(5, 25))
    run.produce(events)
    # Wait until records sit in the retry tier, then fix the API and kill the worker mid-delay.
    for _ in after(60):
        run.refresh()
        if run.retries.count >= len(events) // 2:
            break
        time.sleep(0.2)
    held = run.retries.count
    run.api.set_faults(rate_503=0.0)
    restart(run, run.pool.alive()[0])
    settled = run.wait_until_quiet(timeout_s=scale.pick(90, 600))
    row = run.finish(settled=settled, notes=f"killed with {held} records waiting in the 6 s tier")
    check(run, row, chaos_report)
    assert held > 0, "records should have been waiting in the retry tier when the worker was killed"


# --------------------------------------------------------------------------- memory


def test_memory_bounded_while_api_down(chaos_run: RunFactory, scale: Scale, chaos_report: list[Row]) -> None:
    """Cordial answers 503 to everything while a backlog builds; RSS stays bounded, then all arrives."""
    run = chaos_run(
        "memory_api_down",
        config={"retry": {"max_attempts": 1000}, "worker": {"max_in_flight": 500}},
        faults=FaultConfig(rate_503=1.0, seed=4),
    )
    run.pool.start()
    events = run.events(keys=scale.count(50, 100), per_key=scale.count(20, 200), pad_bytes=4096)
    run.produce(events)
    time.sleep(scale.pick(10, 40))
    run.refresh()
    backlog = run.outstanding()
    run.api.set_faults(rate_503=0.0)
    settled = run.wait_until_quiet(timeout_s=scale.pick(120, 900))
    backlog_mib = sum(len(e.value) for e in events) / 2**20
    row = run.finish(
        settled=settled,
        notes=f"API down; {backlog} events ({backlog_mib:.0f} MiB) backlogged",
    )
    check(run, row, chaos_report)
    assert backlog > 0
    assert row.peak_rss_mib < MEMORY_CEILING_MIB, run.explain(row)
