"""`cordial-bridge demo` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="demo")
def demo() -> None:
    """Not available yet."""
    raise click.UsageError("'demo' is not implemented yet")
