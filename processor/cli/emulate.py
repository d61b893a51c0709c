"""`cordial-bridge emulate cordial|segment`: run an API emulator on a local port (SPEC §10)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEMO_CORDIAL_KEY = "demo-cordial-api-key"
DEMO_SEGMENT_KEY = "demo-segment-write-key"

_RATE = click.FloatRange(0.0, 1.0)
_NON_NEGATIVE = click.FloatRange(min=0.0)


def _fault_options(func: F) -> F:
    options = [
        click.option("--latency-ms", type=_NON_NEGATIVE, default=0.0, show_default=True),
        click.option(
            "--jitter-ms",
            type=_NON_NEGATIVE,
            default=0.0,
            show_default=True,
            help="Extra random latency, uniform in [0, jitter].",
        ),
        click.option("--rate-429", type=_RATE, default=0.0, show_default=True),
        click.option("--retry-after-s", type=_NON_NEGATIVE, default=1.0, show_default=True),
        click.option("--rate-500", type=_RATE, default=0.0, show_default=True),
        click.option("--rate-503", type=_RATE, default=0.0, show_default=True),
        click.option(
            "--rate-timeout",
            type=_RATE,
            default=0.0,
            show_default=True,
            help="Rate of requests that hang --timeout-hang-s before answering 504.",
        ),
        click.option("--timeout-hang-s", type=_NON_NEGATIVE, default=30.0, show_default=True),
        click.option("--rate-401", type=_RATE, default=0.0, show_default=True),
        click.option("--seed", type=int, default=None, help="Seed for the fault draws."),
        click.option(
            "--max-recorded",
            type=click.IntRange(min=1),
            default=100_000,
            show_default=True,
            help="Requests kept for /_emulator/received (older ones are dropped; counts go on).",
        ),
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", type=click.IntRange(0, 65535), required=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _faults(options: dict[str, Any]) -> Any:
    from processor.emulators.faults import FaultConfig

    names = (
        "latency_ms",
        "jitter_ms",
        "rate_429",
        "retry_after_s",
        "rate_500",
        "rate_503",
        "rate_timeout",
        "timeout_hang_s",
        "rate_401",
        "seed",
    )
    return FaultConfig(**{name: options[name] for name in names})


def _key(env_name: str, demo_key: str, what: str) -> str:
    value = os.environ.get(env_name)
    if value:
        click.echo(f"{what} from ${env_name}", err=True)
        return value
    click.echo(f"${env_name} is not set; using the demo {what}: {demo_key}", err=True)
    return demo_key


@click.group(name="emulate")
def emulate() -> None:
    """Run a local emulator of the Cordial or Segment API (for tests, the demo, benchmarks)."""


@emulate.command(name="cordial")
@_fault_options
@click.option(
    "--api-key-env",
    default="CORDIAL_API_KEY",
    show_default=True,
    help="Environment variable holding the API key the emulator accepts.",
)
@click.option(
    "--known-attribute",
    "known_attributes",
    multiple=True,
    help="A contact attribute the account knows (repeatable); others are ignored. Default: all.",
)
@click.option(
    "--reject-unknown-attributes",
    is_flag=True,
    help="With --known-attribute: refuse (400) other attributes unless the live integration says "
    "contactsErrorHandling: ignoreMissingAttributes.",
)
def cordial(
    api_key_env: str, known_attributes: tuple[str, ...], reject_unknown_attributes: bool, **options: Any
) -> None:
    """Emulate Cordial's ingest service and its integration admin API."""
    from processor.emulators.cordial import create_app
    from processor.emulators.serve import serve

    key = _key(api_key_env, DEMO_CORDIAL_KEY, "API key")
    app = create_app(
        api_key=key,
        faults=_faults(options),
        known_attributes=known_attributes or None,
        reject_unknown_attributes=reject_unknown_attributes,
        max_recorded=options["max_recorded"],
    )
    click.echo(f"Cordial emulator on http://{options['host']}:{options['port']}", err=True)
    serve(app, options["host"], options["port"])


@emulate.command(name="segment")
@_fault_options
@click.option(
    "--write-key-env",
    default="SEGMENT_WRITE_KEY",
    show_default=True,
    help="Environment variable holding the write key the emulator accepts.",
)
def segment(write_key_env: str, **options: Any) -> None:
    """Emulate Segment's HTTP Tracking API (/v1/batch and the single-event routes)."""
    from processor.emulators.segment import create_app
    from processor.emulators.serve import serve

    key = _key(write_key_env, DEMO_SEGMENT_KEY, "write key")
    app = create_app(write_key=key, faults=_faults(options), max_recorded=options["max_recorded"])
    click.echo(f"Segment emulator on http://{options['host']}:{options['port']}", err=True)
    serve(app, options["host"], options["port"])
