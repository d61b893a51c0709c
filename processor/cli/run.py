"""`cordial-bridge run`: the consumer-group workers of one or both directions, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import click
import structlog

from processor.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, config_option, load_or_exit
from processor.config.settings import Settings
from processor.errors import ConfigError, WorkerError

_DIRECTIONS = {"inbound": ("inbound",), "outbound": ("outbound",), "both": ("inbound", "outbound")}

log = structlog.get_logger(__name__)


def _secrets(settings: Settings) -> list[str]:
    keys = (settings.cordial.api_key, settings.segment.write_key)
    return [k.reveal() for k in keys if k is not None and k.reveal()]


GC_THRESHOLDS = (20_000, 20, 20)
"""Generation thresholds for a long-running worker (CPython's default is 700, 10, 10)."""


def _tune_gc() -> None:
    """A worker allocates a few objects per record and frees nearly all of them by reference
    counting; collecting for cycles every 700 allocations cost ~5 % of the outbound loop
    (`bench/fast_path.py`: ~42 -> ~40 us per record). Freezing what start-up built keeps those
    objects out of every later full collection."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """asyncio on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        return asyncio.run

    def run(coro: Coroutine[Any, Any, None]) -> None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(coro)

    return run


async def _serve(settings: Settings, directions: tuple[str, ...], host_port: tuple[str, int] | None) -> None:
    from processor.ops.metrics import BridgeMetrics
    from processor.ops.readiness import Readiness
    from processor.runtime.directions import run_workers

    metrics = BridgeMetrics()
    readiness = Readiness()
    server = None
    if host_port is not None:
        from processor.ops.server import start_ops_server

        server = start_ops_server(
            host=host_port[0], port=host_port[1], registry=metrics.registry, readiness=readiness
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("signal_again_still_stopping", signal=signal.Signals(signum).name)
            return
        log.info("shutdown_requested", signal=signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await run_workers(directions, settings, metrics=metrics, readiness=readiness, stop=stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if server is not None:
            server.stop()


@click.command(name="run")
@config_option
@click.option(
    "--direction", type=click.Choice(sorted(_DIRECTIONS)), default="both", show_default=True,
    help="inbound = segment-inbound → Cordial; outbound = cordial-outbound → Segment.",
)  # fmt: skip
@click.option("--no-ops-server", is_flag=True, help="Do not serve /metrics, /healthz and /readyz.")
def run(config_path: str | None, direction: str, no_ops_server: bool) -> None:
    """Run the workers until SIGTERM/SIGINT, then shut down gracefully (worker.shutdown_deadline_s).

    Exit 0 after a clean shutdown, 1 when a worker fails, 2 for a configuration error.
    """
    settings = load_or_exit(config_path)
    from processor.ops.logging import configure_logging

    configure_logging(settings.ops, secrets=_secrets(settings))
    host_port = None if no_ops_server else (settings.ops.metrics_host, settings.ops.metrics_port)
    _tune_gc()
    try:
        _runner()(_serve(settings, _DIRECTIONS[direction], host_port))
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc
    except (WorkerError, OSError) as exc:
        log.error("worker_failed", error=str(exc))
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_FAILURE) from exc
    raise SystemExit(EXIT_OK)
