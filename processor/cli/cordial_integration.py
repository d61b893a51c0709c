"""`cordial-bridge cordial-integration show|apply FILE`: Cordial's Segment integration settings (SPEC §3.4).

`show` prints the live Segment integration as JSON. `apply FILE` checks the file (a bad one
exits 2 before any request), fetches what is live, prints the difference, then PUTs when the
integration exists and POSTs when not; `--dry-run` and "no difference" send nothing.
Exit codes: 0 done (or nothing to do), 1 the API refused or could not be reached, 2 a bad file,
config or missing key.

Tests inject an httpx transport through the click context object
(`obj={"cordial_admin_transport": transport}`) instead of patching.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import httpx

from processor.cli.common import EXIT_FAILURE, EXIT_USAGE, config_option, load_or_exit
from processor.config.classic import load_integration_file
from processor.errors import ConfigError
from processor.sinks.cordial_admin import SEGMENT_PATH, CordialAdminClient, CordialAdminError

T = TypeVar("T")
TRANSPORT_KEY = "cordial_admin_transport"


@click.group(name="cordial-integration")
def cordial_integration() -> None:
    """Read and write the Segment integration settings of a Cordial account (admin API)."""


@cordial_integration.command()
@click.option("--all", "show_all", is_flag=True, help="Print every integration, not only Segment's.")
@config_option
@click.pass_context
def show(ctx: click.Context, show_all: bool, config_path: str | None) -> None:
    """Print the live Segment integration as JSON."""

    async def fetch(client: CordialAdminClient) -> object:
        if show_all:
            return await client.list_integrations()
        return await client.get_segment_integration()

    live = _run(ctx, config_path, fetch)
    if live is None:
        click.echo("No Segment integration is set up in this Cordial account.", err=True)
        return
    click.echo(json.dumps(live, indent=2, ensure_ascii=False))


@cordial_integration.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show the difference; send nothing.")
@config_option
@click.pass_context
def apply(ctx: click.Context, file: str, dry_run: bool, config_path: str | None) -> None:
    """Make the live Segment integration match FILE (the classic integration JSON)."""
    try:
        desired = load_integration_file(file)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_USAGE) from exc

    async def reconcile(client: CordialAdminClient) -> str:
        diff = await client.plan(desired)
        click.echo(diff.render())
        if diff.empty:
            return "Nothing sent."
        if dry_run:
            return f"Dry run: nothing sent (apply would {diff.method} {client.base_url}{SEGMENT_PATH})."
        await client.push(desired, diff)
        return (
            "Created the Segment integration."
            if diff.method == "POST"
            else "Updated the Segment integration."
        )

    click.echo(_run(ctx, config_path, reconcile))


def _run(
    ctx: click.Context, config_path: str | None, work: Callable[[CordialAdminClient], Awaitable[T]]
) -> T:
    """Load settings, open a client, run `work`; map failures to exit codes (no traceback, no key)."""
    settings = load_or_exit(config_path)
    injected = ctx.obj.get(TRANSPORT_KEY) if isinstance(ctx.obj, dict) else None
    transport = injected if isinstance(injected, httpx.AsyncBaseTransport) else None

    async def main() -> T:
        async with CordialAdminClient(settings.cordial, transport=transport) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc
    except CordialAdminError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(EXIT_FAILURE) from exc
