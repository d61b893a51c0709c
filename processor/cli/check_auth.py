"""`cordial-bridge check-auth`: do the configured Cordial API key and Segment write key work?"""

from __future__ import annotations

import asyncio
from typing import get_args

import click

from processor.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, config_option, load_or_exit
from processor.config.settings import Direction
from processor.errors import ConfigError
from processor.sinks.auth_check import check_credentials

_DIRECTIONS: dict[str, tuple[Direction, ...]] = {
    "inbound": ("inbound",),
    "outbound": ("outbound",),
    "both": get_args(Direction),
}


@click.command(name="check-auth")
@config_option
@click.option(
    "--direction",
    type=click.Choice(sorted(_DIRECTIONS)),
    default="both",
    show_default=True,
    help="inbound = the Cordial API key, outbound = the Segment write key.",
)
def check_auth(config_path: str | None, direction: str) -> None:
    """Check the configured keys against the configured endpoints.

    \b
    Cordial: GET {cordial.endpoint}/api/checkAuth with the API key.
    Segment: POST an empty batch to {segment.endpoint}/v1/batch with the write key.
      Segment accepts most write keys without complaint, so a pass only means the key
      was not refused; only a 401/403 proves a key bad.

    Prints one PASS/FAIL line per API. Exit 0 when every check passes, 1 when one fails,
    2 for a configuration error or a missing key.
    """
    settings = load_or_exit(config_path)
    try:
        results = asyncio.run(check_credentials(settings, _DIRECTIONS[direction]))
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark}  {result.api:<8} {result.endpoint}  {result.detail}")
    raise SystemExit(EXIT_OK if all(r.passed for r in results) else EXIT_FAILURE)
