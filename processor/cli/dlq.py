"""`cordial-bridge dlq` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="dlq")
def dlq() -> None:
    """Not available yet."""
    raise click.UsageError("'dlq' is not implemented yet")
