"""`cordial-bridge cordial-integration` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="cordial-integration")
def cordial_integration() -> None:
    """Not available yet."""
    raise click.UsageError("'cordial-integration' is not implemented yet")
