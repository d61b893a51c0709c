"""`cordial-bridge emulate` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="emulate")
def emulate() -> None:
    """Not available yet."""
    raise click.UsageError("'emulate' is not implemented yet")
