"""`cordial-bridge run` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="run")
def run() -> None:
    """Not available yet."""
    raise click.UsageError("'run' is not implemented yet")
