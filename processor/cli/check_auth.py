"""`cordial-bridge check-auth` (placeholder until its issue lands)."""

from __future__ import annotations

import click


@click.command(name="check-auth")
def check_auth() -> None:
    """Not available yet."""
    raise click.UsageError("'check-auth' is not implemented yet")
