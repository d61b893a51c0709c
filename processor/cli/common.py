"""Options and helpers shared by the verbs: config loading with exit code 2 on bad config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from processor.config.loader import load_settings
from processor.config.settings import Settings
from processor.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def config_option(func: F) -> F:
    """`--config FILE` (env `CORDIAL_BRIDGE_CONFIG`); absent = all defaults."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="CORDIAL_BRIDGE_CONFIG",
        default=None,
        help="YAML config file (default: built-in defaults).",
    )(func)


def load_or_exit(config_path: str | None) -> Settings:
    """Load settings; on a ConfigError print it (no traceback) and exit 2."""
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from exc
