"""`cordial-bridge topics` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="topics")
def topics() -> None:
    """Not available yet."""
    raise click.UsageError("'topics' is not implemented yet")
