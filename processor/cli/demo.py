"""`cordial-bridge demo`: embedded broker + both emulators + sample traffic + workers, then a summary."""

from __future__ import annotations

import click

from processor.cli.common import EXIT_FAILURE
from processor.errors import BridgeError


@click.command(name="demo")
@click.option(
    "--events",
    type=click.IntRange(min=0),
    default=40,
    show_default=True,
    help="Good records per direction (a few deliberate failures come on top).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port for /metrics, /healthz, /readyz (0 = any free port).",
)
@click.option("--keep-running", is_flag=True, help="After the summary, keep everything up until Ctrl-C.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Give up waiting for the records after this many seconds.",
)
@click.option("--no-faults", is_flag=True, help="Do not inject 503/429 answers into the emulators.")
def demo(events: int, metrics_port: int, keep_running: bool, timeout_s: float, no_faults: bool) -> None:
    """See it work: publish sample traffic both ways through the bridge and print what happened."""
    from processor.demo.run import DemoOptions, run_demo

    options = DemoOptions(
        events=events,
        metrics_port=metrics_port,
        keep_running=keep_running,
        timeout_s=timeout_s,
        faults=not no_faults,
    )
    try:
        result = run_demo(options, echo=click.echo)
    except BridgeError as exc:  # the broker would not start, a worker stopped, …
        click.echo(f"demo failed: {exc}", err=True)
        raise SystemExit(EXIT_FAILURE) from exc
    click.echo(result.text)
    if not result.finished:
        raise SystemExit(EXIT_FAILURE)
